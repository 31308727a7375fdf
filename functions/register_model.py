"""Training step: write the model card next to the registry and report what was trained.

The artifact stays where SageMaker wrote it (training-output/<job>/output/model.tar.gz): copying
it to models/<name>/model.tar.gz would start the deploy workflow through the S3 rule, and
deployment after training is the `Training Succeeded` event's job (deploy: true).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from models import Dataset, Meta
from payloads import RegisterModelPayload
from select_best import pick_best
from step import logger, metrics, pipeline_step

REGISTRY_PREFIX = "registry/"
LATEST_KEY = f"{REGISTRY_PREFIX}latest.json"


def final_metrics(description: dict[str, Any]) -> dict[str, float]:
    """The last value of every metric the job reported."""
    return {
        str(m["MetricName"]): float(m["Value"])
        for m in description.get("FinalMetricDataList", [])
        if "MetricName" in m and "Value" in m
    }


def card(
    description: dict[str, Any], dataset: Dataset, tuning: dict[str, Any] | None, meta: Meta
) -> dict[str, Any]:
    """The registry's record of one trained model."""
    return {
        "trainingJobName": description["TrainingJobName"],
        "modelUri": description["ModelArtifacts"]["S3ModelArtifacts"],
        "dataset": {"name": dataset.name, "uri": dataset.uri, "manifest": dataset.manifest.uri},
        "hyperparameters": dict(description.get("HyperParameters", {})),
        "metrics": final_metrics(description),
        "tuning": tuning,
        "executionArn": meta.executionArn,
        "correlationId": meta.correlationId,
    }


def register(
    s3: Any, sagemaker: Any, job: str, dataset: Dataset, mode: str, plan_tuning: Any, meta: Meta
) -> dict[str, Any]:
    description = sagemaker.describe_training_job(TrainingJobName=job)
    tuning = None
    if mode == "tuning" and plan_tuning:
        tuning_name = plan_tuning["request"]["HyperParameterTuningJobName"]
        tuning = pick_best(
            sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
        )
    record = card(description, dataset, tuning, meta)
    bucket = dataset.manifest.bucket
    card_key = f"{REGISTRY_PREFIX}{job}/card.json"
    s3.put_object(
        Bucket=bucket, Key=card_key, Body=json.dumps(record, indent=2).encode(),
        ContentType="application/json",
    )  # fmt: skip
    # The newest trained model: what the batch workflow uses when no endpoint serves one.
    latest = {"modelUri": record["modelUri"], "cardUri": f"s3://{bucket}/{card_key}"}
    s3.put_object(Bucket=bucket, Key=LATEST_KEY, Body=json.dumps(latest).encode())
    return {
        "model": {"uri": record["modelUri"], "cardUri": latest["cardUri"], "name": job},
        "metrics": record["metrics"],
        "hyperparameters": record["hyperparameters"],
        "tuning": tuning,
    }


@pipeline_step(payload=RegisterModelPayload)
def handler(event: RegisterModelPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {model, metrics, hyperparameters, tuning}."""
    s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
    result = register(
        s3, sagemaker, event.trainingJobName, event.dataset, event.mode, event.tuning, event.meta
    )
    metrics.add_metric(name="ModelsRegistered", unit=MetricUnit.Count, value=1)
    logger.info("model registered", extra={"model": result["model"]})
    return result
