"""Training step after tuning: retrain on the full data (no validation split) with the best
hyperparameters the search found."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from models import Dataset, Meta
from payloads import PlanRetrainPayload
from plan_training import job_name
from step import logger, pipeline_step
from training_requests import TrainingSettings, hyperparameters, training_job_request


def retrain_request(
    settings: TrainingSettings, dataset: Dataset, best: dict[str, Any], meta: Meta
) -> dict[str, Any]:
    tuned = {str(k): str(v) for k, v in best["hyperparameters"].items()}
    hps = hyperparameters(settings, dataset, {**tuned, "half_val": "0"})
    return training_job_request(job_name(dataset, "full"), settings, dataset, hps, meta)


@pipeline_step(payload=PlanRetrainPayload)
def handler(event: PlanRetrainPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {request}."""
    request = retrain_request(TrainingSettings.from_env(), event.dataset, event.best, event.meta)
    logger.info("retrain planned", extra={"job": request["TrainingJobName"]})
    return {"request": request}
