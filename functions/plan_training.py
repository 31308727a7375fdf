"""Training step: build the training or tuning request, or notice a duplicate event."""

from __future__ import annotations

from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from models import Dataset, Meta
from names import MAX_TUNING_JOB_NAME, object_name
from payloads import PlanTrainingPayload
from settings import name_prefix
from step import logger, metrics, pipeline_step
from training_requests import (
    TrainingSettings,
    hyperparameters,
    training_job_request,
    tuning_job_request,
)


def job_exists(describe: Any, **name: str) -> bool:
    """True when Describe* finds the job (any status: a duplicate must not start another)."""
    try:
        describe(**name)
    except ClientError as error:
        if is_missing(error):
            return False
        raise
    return True


def job_name(dataset: Dataset, kind: str, limit: int = 63) -> str:
    """Deterministic from the manifest object (and the request's runId)."""
    m = dataset.manifest
    return object_name(
        name_prefix(), kind, dataset.name,
        bucket=m.bucket, key=m.key, etag=m.etag, salt=dataset.runId, limit=limit,
    )  # fmt: skip


def plan(
    sagemaker: Any, settings: TrainingSettings, dataset: Dataset, meta: Meta
) -> dict[str, Any]:
    """{duplicate, mode, training: {request} | None, tuning: {request} | None}."""
    if dataset.tuning is not None:
        name = job_name(dataset, "hpo", MAX_TUNING_JOB_NAME)
        duplicate = job_exists(
            sagemaker.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=name
        )
        request = tuning_job_request(name, settings, dataset, meta)
        return {"duplicate": duplicate, "mode": "tuning", "training": None,
                "tuning": {"request": request}}  # fmt: skip
    name = job_name(dataset, "train")
    duplicate = job_exists(sagemaker.describe_training_job, TrainingJobName=name)
    request = training_job_request(
        name, settings, dataset, hyperparameters(settings, dataset), meta
    )
    return {"duplicate": duplicate, "mode": "training", "training": {"request": request},
            "tuning": None}  # fmt: skip


@pipeline_step(payload=PlanTrainingPayload)
def handler(event: PlanTrainingPayload, context: LambdaContext) -> dict[str, Any]:
    """-> plan."""
    meta, dataset = event.meta, event.dataset
    result = plan(client("sagemaker"), TrainingSettings.from_env(), dataset, meta)
    if result["duplicate"]:
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        logger.info("duplicate event: job already exists", extra={"dataset": dataset.uri})
    logger.info("planned", extra={"mode": result["mode"], "duplicate": result["duplicate"]})
    return result
