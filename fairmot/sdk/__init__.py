"""The SageMaker Python SDK path: trainers, tuners, endpoints and processing jobs for notebooks.

Installed by the `sdk` extra into its own venv (`make venv-sdk`: .venv-sdk). Every request is
the one the stack's Lambdas build for the same inputs (see fairmot.sdk.contracts); `sagemaker`
is imported only inside the functions that use it.

    from fairmot.sdk.session import sagemaker_session
    from fairmot.sdk.training import DatasetRef, build_trainer, build_tuner
"""
