"""Training step after tuning: retrain on the full data (no validation split) with the best
hyperparameters the search found."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from correlation import bind_correlation_id
from models import Dataset, Meta
from plan_training import job_name
from training_requests import TrainingSettings, hyperparameters, training_job_request

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FairMOT")


def retrain_request(
    settings: TrainingSettings, dataset: Dataset, best: dict[str, Any], meta: Meta
) -> dict[str, Any]:
    tuned = {str(k): str(v) for k, v in best["hyperparameters"].items()}
    hps = hyperparameters(settings, dataset, {**tuned, "half_val": "0"})
    return training_job_request(job_name(dataset, "full"), settings, dataset, hps, meta)


@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Payload {plan, best, dataset, meta} -> {request}."""
    meta = Meta.model_validate(event["meta"])
    bind_correlation_id(logger, tracer, meta.correlationId)
    dataset = Dataset.model_validate(event["dataset"])
    request = retrain_request(TrainingSettings.from_env(), dataset, event["best"], meta)
    logger.info("retrain planned", extra={"job": request["TrainingJobName"]})
    return {"request": request}
