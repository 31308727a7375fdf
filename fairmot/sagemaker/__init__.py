"""SageMaker container entry points: `train`, `serve` and `process` (DESIGN.md section 6).

Every path follows SageMaker's `/opt/ml` layout and can be relocated by environment variables
(see `fairmot.sagemaker.paths`), so tests and local mode run the entry points as plain processes.
"""
