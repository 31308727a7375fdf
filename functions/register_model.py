"""Training step: register the trained model as a package in the SageMaker Model Registry.

One model package group per dataset (`<prefix>-<dataset>`); each trained model becomes a
version with its image, artifact, metrics (ModelMetrics, from a metrics report under
registry/<job>/) and a model card, `PendingManualApproval` unless the manifest's auto_approve
rule holds. The registry is the source of truth: an Approved package starts the deploy
workflow through the registry's own state-change event. registry/latest.json only points at
the newest package (the batch workflow's model when no request names one).

The artifact stays where SageMaker wrote it (training-output/<job>/output/model.tar.gz): copying
it to models/<name>/model.tar.gz would start the deploy workflow through the S3 rule.
"""

from __future__ import annotations

import json
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from models import Dataset, Meta
from names import slug, validate_name
from payloads import RegisterModelPayload
from select_best import pick_best
from settings import env, name_prefix
from step import logger, metrics, pipeline_step
from tags import pipeline_tags, tag

from fairmot_contracts.manifest import AutoApprove

REGISTRY_PREFIX = "registry/"
LATEST_KEY = f"{REGISTRY_PREFIX}latest.json"
PENDING, APPROVED = "PendingManualApproval", "Approved"
# What the serving container takes and answers (the notebook protocol, JSON both ways).
CONTENT_TYPES = ["application/json"]
# CustomerMetadataProperties values: SageMaker's pattern has no room for more than this.
MAX_METADATA_VALUE = 256


def final_metrics(description: dict[str, Any]) -> dict[str, float]:
    """The last value of every metric the job reported."""
    return {
        str(m["MetricName"]): float(m["Value"])
        for m in description.get("FinalMetricDataList", [])
        if "MetricName" in m and "Value" in m
    }


def group_name(dataset_name: str) -> str:
    """The dataset's model package group (SageMaker's name rules, within the stack's prefix)."""
    return validate_name(f"{slug(name_prefix())}-{slug(dataset_name)}"[:63].strip("-"))


def ensure_group(sagemaker: Any, name: str, meta: Meta) -> None:
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=name)
    except ClientError as error:
        if not is_missing(error):
            raise
        sagemaker.create_model_package_group(
            ModelPackageGroupName=name,
            ModelPackageGroupDescription="FairMOT models trained on one dataset",
            Tags=pipeline_tags(meta),
        )


def approved_value(sagemaker: Any, group: str, metric: str) -> float | None:
    """The metric of the group's newest Approved package (None when there is none)."""
    listed = sagemaker.list_model_packages(
        ModelPackageGroupName=group, ModelApprovalStatus=APPROVED,
        SortBy="CreationTime", SortOrder="Descending", MaxResults=1,
    )["ModelPackageSummaryList"]  # fmt: skip
    if not listed:
        return None
    package = sagemaker.describe_model_package(ModelPackageName=listed[0]["ModelPackageArn"])
    value = (package.get("CustomerMetadataProperties") or {}).get(metric)
    return float(value) if value is not None else None


def approval(
    rule: AutoApprove | None, measured: dict[str, float], current: float | None
) -> tuple[str, str]:
    """(ModelApprovalStatus, why) for a model with `measured` metrics."""
    if rule is None:
        return PENDING, "no auto_approve rule: an operator approves"
    value = measured.get(rule.metric)
    if value is None:
        return PENDING, f"the job reported no {rule.metric}"
    if rule.min is not None and value < rule.min:
        return PENDING, f"{rule.metric}={value:g} is below {rule.min:g}"
    if rule.beat_approved and current is not None and value <= current:
        return PENDING, f"{rule.metric}={value:g} does not beat the approved {current:g}"
    return APPROVED, f"{rule.metric}={value:g} meets the auto_approve rule"


def model_card(job: dict[str, Any], dataset: Dataset, measured: dict[str, float]) -> str:
    """SageMaker model card content (its JSON schema: overview, training, evaluation)."""
    content = {
        "model_overview": {
            "model_description": f"FairMOT multi-object tracker trained on {dataset.name}",
            "algorithm_type": "FairMOT (CenterNet detection + re-ID embeddings)",
        },
        "training_details": {
            "training_job_details": {
                "training_arn": job["TrainingJobArn"],
                "hyper_parameters": [
                    {"name": k, "value": str(v)} for k, v in sorted(job["HyperParameters"].items())
                ],
            }
        },
        "evaluation_details": [
            {
                "name": f"{dataset.name} validation halves",
                "metric_groups": [
                    {
                        "name": "tracking",
                        "metric_data": [
                            {"name": k, "type": "number", "value": v}
                            for k, v in sorted(measured.items())
                        ],
                    }
                ],
            }
        ],
    }
    return json.dumps(content)


def register(
    s3: Any, sagemaker: Any, job_name: str, dataset: Dataset, mode: str, plan_tuning: Any,
    meta: Meta,
) -> dict[str, Any]:  # fmt: skip
    job = sagemaker.describe_training_job(TrainingJobName=job_name)
    job.setdefault("HyperParameters", {})
    tuning = None
    if mode == "tuning" and plan_tuning:
        tuning_name = plan_tuning["request"]["HyperParameterTuningJobName"]
        tuning = pick_best(
            sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
        )
    measured = final_metrics(job)
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    group = group_name(dataset.name)
    ensure_group(sagemaker, group, meta)
    rule = dataset.auto_approve
    current = approved_value(sagemaker, group, rule.metric) if rule and rule.beat_approved else None
    status, why = approval(rule, measured, current)
    bucket = dataset.manifest.bucket
    report_key = f"{REGISTRY_PREFIX}{job_name}/metrics.json"
    s3.put_object(
        Bucket=bucket, Key=report_key, Body=json.dumps(measured).encode(),
        ContentType="application/json",
    )  # fmt: skip
    properties = {k: f"{v:g}" for k, v in measured.items()}
    properties.update(trainingJobName=job_name, dataset=dataset.uri, approval=why)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"{job_name} on {dataset.name}"[:1024],
        InferenceSpecification={
            "Containers": [{"Image": env("SERVE_IMAGE_URI"), "ModelDataUrl": model_uri}],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": CONTENT_TYPES,
        },
        ModelApprovalStatus=status,
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://{bucket}/{report_key}",
                }
            }
        },
        CustomerMetadataProperties={
            k: tag(k, v)["Value"][:MAX_METADATA_VALUE] for k, v in properties.items()
        },
        ModelCard={
            "ModelCardContent": model_card(job, dataset, measured),
            "ModelCardStatus": "Draft",
        },
        Tags=pipeline_tags(meta, dataset=dataset.uri),
    )["ModelPackageArn"]
    # A pointer, not a copy: the newest package and its artifact, for the batch workflow.
    latest = {"modelUri": model_uri, "modelPackageArn": arn}
    s3.put_object(Bucket=bucket, Key=LATEST_KEY, Body=json.dumps(latest).encode())
    return {
        "model": {
            "uri": model_uri, "name": job_name, "packageArn": arn, "packageGroup": group,
            "approvalStatus": status,
        },
        "metrics": measured,
        "hyperparameters": dict(job["HyperParameters"]),
        "tuning": tuning,
    }  # fmt: skip


@pipeline_step(payload=RegisterModelPayload)
def handler(event: RegisterModelPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {model, metrics, hyperparameters, tuning}."""
    s3, sagemaker = client("s3"), client("sagemaker")
    result = register(
        s3, sagemaker, event.trainingJobName, event.dataset, event.mode, event.tuning, event.meta
    )
    metrics.add_metric(name="ModelsRegistered", unit=MetricUnit.Count, value=1)
    logger.info("model registered", extra={"model": result["model"]})
    return result
