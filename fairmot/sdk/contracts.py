"""The one place fairmot.sdk reaches the stack's Lambda modules (functions/).

The SDK helpers build every request with the same code the Lambdas run (names, training and
tuning requests, the processing contract; metric definitions and the manifest model come from
fairmot_contracts, as in the Lambdas), so a notebook and the event-driven stack cannot drift
apart. functions/ is a flat folder of modules (Lambda's CodeUri), so it is put on sys.path once,
here; if those modules move, only this file changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if not (FUNCTIONS_DIR / "training_requests.py").exists():
    raise ImportError(
        f"fairmot.sdk needs the stack's Lambda modules in {FUNCTIONS_DIR}: "
        "use a source checkout (pip install -e '.[sdk]')"
    )
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.append(str(FUNCTIONS_DIR))

# ruff: noqa: E402 (the imports need the path above)
from errors import DatasetInvalidError, InvalidNameError, PipelineError
from instances import device_environment
from models import Dataset, Meta, S3Object, parse_s3_uri
from names import MAX_TUNING_JOB_NAME, object_name, validate_name
from plan_deployment import VARIANT_NAME, model_label
from plan_processing import (
    MANIFEST_NAME_VARIABLE,
    MAX_PROCESSING_SECONDS,
    MODEL_DIR,
    OUTPUT_DIR,
    VIDEO_DIR,
    s3_input,
)
from plan_processing import VOLUME_SIZE_GB as PROCESSING_VOLUME_SIZE_GB
from tags import pipeline_tags as tags_for
from training_requests import (
    TrainingSettings,
    hyperparameters,
    training_job_request,
    tuning_job_request,
)
from validate_video import results_prefix

from fairmot_contracts.manifest import DatasetManifest, TuningSpec
from fairmot_contracts.metrics import METRIC_DEFINITIONS, METRIC_NAMES

__all__ = [
    "MANIFEST_NAME_VARIABLE",
    "MAX_PROCESSING_SECONDS",
    "MAX_TUNING_JOB_NAME",
    "METRIC_DEFINITIONS",
    "METRIC_NAMES",
    "MODEL_DIR",
    "OUTPUT_DIR",
    "PROCESSING_VOLUME_SIZE_GB",
    "VARIANT_NAME",
    "VIDEO_DIR",
    "Dataset",
    "DatasetInvalidError",
    "DatasetManifest",
    "InvalidNameError",
    "Meta",
    "PipelineError",
    "S3Object",
    "TrainingSettings",
    "TuningSpec",
    "device_environment",
    "hyperparameters",
    "model_label",
    "object_name",
    "parse_s3_uri",
    "results_prefix",
    "s3_input",
    "tags_for",
    "training_job_request",
    "tuning_job_request",
    "validate_name",
]
