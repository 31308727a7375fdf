"""First step of every workflow: accept an S3 event or a request event, return one shape.

Accepted inputs (EventBridge envelopes):
- `Object Created` from aws.s3 (the data bucket's uploads),
- `Training Requested` / `Deployment Requested` / `Video Processing Requested` (detail carries
  an S3 URI: datasetUri, modelUri or videoUri),
- `Training Succeeded` for deploy (the rule for manifests with `deploy: true`).
The correlation id is the request's `correlationId`, else the triggering event's id, else the
execution name, so logs, traces and the result event of a chain of workflows share it.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_errors import is_missing
from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.exceptions import ClientError
from correlation import bind_correlation_id
from errors import InvalidEventError
from models import (
    DeploymentRequest,
    Meta,
    S3Object,
    TrainingRequest,
    VideoRequest,
    parse_s3_uri,
)
from pydantic import ValidationError
from settings import env

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FairMOT")

MANIFEST_NAME = "manifest.json"
REQUEST_TYPES = {
    "training": "Training Requested",
    "deploy": "Deployment Requested",
    "batch": "Video Processing Requested",
}
URI_FIELDS = {"training": "datasetUri", "deploy": "modelUri", "batch": "videoUri"}

Request = TrainingRequest | DeploymentRequest | VideoRequest


def head(s3: Any, bucket: str, key: str) -> S3Object:
    """The object's etag and size; InvalidEventError when it is not there."""
    try:
        found = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_missing(error):
            raise InvalidEventError(f"s3://{bucket}/{key} does not exist") from error
        raise
    return S3Object(
        bucket=bucket, key=key, etag=found["ETag"].strip('"'), size=found["ContentLength"]
    )


def s3_event_object(detail: dict[str, Any]) -> S3Object:
    # Keys arrive as stored: unlike S3 notifications to SNS/SQS/Lambda, EventBridge events
    # carry the key without URL encoding, so it is used as it is.
    try:
        obj = detail["object"]
        return S3Object(
            bucket=detail["bucket"]["name"],
            key=obj["key"],
            etag=str(obj.get("etag", "")).strip('"'),
            size=obj.get("size"),
        )
    except (KeyError, TypeError) as error:
        raise InvalidEventError(f"S3 event without bucket/object: {detail!r}") from error


def in_data_bucket(uri: str) -> tuple[str, str]:
    """(bucket, key) of a URI in the stack's bucket: its roles read and write nowhere else."""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as error:
        raise InvalidEventError(str(error)) from error
    data_bucket = env("DATA_BUCKET")
    if bucket != data_bucket:
        raise InvalidEventError(
            f"{uri} is outside the pipeline's bucket: its jobs and functions may only use "
            f"s3://{data_bucket}/; copy the object there and send the request again"
        )
    return bucket, key


def dataset_manifest_key(key: str) -> str:
    """A dataset URI may name the prefix or the manifest itself."""
    if key.endswith(MANIFEST_NAME):
        return key
    return key.rstrip("/") + "/" + MANIFEST_NAME


def build_request(workflow: str, event: dict[str, Any], s3: Any) -> Request:
    """Turn one accepted event into the workflow's typed request."""
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError(f"expected an EventBridge event with a detail, got {event!r}")
    run_id = str(detail.get("runId", ""))

    if detail_type == "Object Created":
        obj = s3_event_object(detail)
    elif detail_type == REQUEST_TYPES.get(workflow):
        uri = detail.get(URI_FIELDS[workflow])
        if not isinstance(uri, str):
            raise InvalidEventError(f"{detail_type} needs detail.{URI_FIELDS[workflow]}")
        bucket, key = in_data_bucket(uri)
        if workflow == "training":
            key = dataset_manifest_key(key)
        obj = head(s3, bucket, key)
    elif workflow == "deploy" and detail_type == "Training Succeeded":
        model = detail.get("model")
        uri = model.get("uri") if isinstance(model, dict) else None
        if not isinstance(uri, str):
            raise InvalidEventError("Training Succeeded without detail.model.uri")
        obj = head(s3, *in_data_bucket(uri))
    else:
        raise InvalidEventError(
            f"the {workflow} workflow does not accept {detail_type!r} events; it takes "
            f"'Object Created' or '{REQUEST_TYPES[workflow]}'"
        )

    try:
        if workflow == "training":
            return TrainingRequest(
                manifest=obj,
                runId=run_id,
                deploy=detail.get("deploy") if detail_type == "Training Requested" else None,
                hyperparameters={
                    str(k): str(v) for k, v in (detail.get("hyperparameters") or {}).items()
                },
            )
        if workflow == "deploy":
            return DeploymentRequest(
                model=obj, runId=run_id, endpointName=detail.get("endpointName")
            )
        model_uri, scene_uri = detail.get("modelUri"), detail.get("sceneUri")
        for uri in (model_uri, scene_uri):
            if isinstance(uri, str):
                in_data_bucket(uri)
        return VideoRequest(video=obj, runId=run_id, modelUri=model_uri, sceneUri=scene_uri)
    except ValidationError as error:
        raise InvalidEventError(f"malformed {detail_type} detail: {error}") from error


def correlation_id(event: dict[str, Any], fallback: str) -> str:
    detail = event.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("correlationId"), str):
        return str(detail["correlationId"])
    if isinstance(event.get("id"), str):
        return str(event["id"])
    return fallback


@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Payload {workflow, event, meta} -> {meta, request}."""
    workflow = event.get("workflow")
    if workflow not in REQUEST_TYPES:
        raise InvalidEventError(f"unknown workflow {workflow!r}")
    meta = Meta.model_validate(event["meta"])
    trigger = event.get("event") or {}
    meta = meta.model_copy(update={"correlationId": correlation_id(trigger, meta.correlationId)})
    bind_correlation_id(logger, tracer, meta.correlationId)
    request = build_request(str(workflow), trigger, boto3.client("s3"))
    logger.info("normalised", extra={"workflow": workflow, "request": request.model_dump()})
    return {"meta": meta.model_dump(), "request": request.model_dump()}
