"""First step of every workflow: accept an S3 event or a request event, return one shape.

Accepted inputs (EventBridge envelopes):
- `Object Created` from aws.s3 (the data bucket's uploads),
- `Training Requested` / `Deployment Requested` / `Video Processing Requested` (detail carries
  an S3 URI: datasetUri, modelUri or videoUri, the last with an optional versionId),
- `Training Succeeded` for deploy (the rule for manifests with `deploy: true`),
- `SageMaker Model Package State Change` for deploy: a package of this stack's registry became
  Approved (the artifact is its inference container's ModelDataUrl).
The correlation id is the request's `correlationId`, else the triggering event's id, else the
execution name, so logs, traces and the result event of a chain of workflows share it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_errors import is_missing
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from correlation import bind_correlation_id
from errors import InvalidEventError
from models import (
    SAGEMAKER_READABLE_PREFIXES,
    DeploymentRequest,
    S3Object,
    TrainingRequest,
    VideoRequest,
    parse_s3_uri,
)
from payloads import NormaliseEventPayload
from pydantic import ValidationError
from settings import env
from step import logger, pipeline_step, tracer

from fairmot_contracts.manifest import MANIFEST_NAME

REQUEST_TYPES = {
    "training": "Training Requested",
    "deploy": "Deployment Requested",
    "batch": "Video Processing Requested",
}
URI_FIELDS = {"training": "datasetUri", "deploy": "modelUri", "batch": "videoUri"}
PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"

Request = TrainingRequest | DeploymentRequest | VideoRequest


def head_or_none(s3: Any, bucket: str, key: str, version_id: str | None = None) -> S3Object | None:
    """The object (that version, when named) with its etag, size and version; None if absent."""
    try:
        found = s3.head_object(
            Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {})
        )
    except ClientError as error:
        if is_missing(error):
            return None
        raise
    return S3Object(
        bucket=bucket, key=key, etag=found["ETag"].strip('"'), size=found["ContentLength"],
        versionId=found.get("VersionId") or version_id,
    )  # fmt: skip


def head(s3: Any, bucket: str, key: str, version_id: str | None = None) -> S3Object:
    """The object's (or that version's) etag and size; InvalidEventError when it is not there."""
    found = head_or_none(s3, bucket, key, version_id)
    if found is None:
        version = f" (version {version_id})" if version_id else ""
        raise InvalidEventError(f"s3://{bucket}/{key}{version} does not exist")
    return found


def key_candidates(key: str) -> list[str]:
    """The key as sent, then its URL-decoded form (when that differs).

    S3 notifications URL-encode keys (form encoding: a space is `+`, a literal `+` is `%2B`);
    whether EventBridge's S3 events do is disputed, and moto sends them raw. Both forms are tried
    against S3, as sent first, so a literal `+` in a raw key never turns into a space.
    """
    decoded = unquote_plus(key)
    return [key, decoded] if decoded != key else [key]


def s3_event_object(s3: Any, detail: dict[str, Any]) -> S3Object:
    """The object an Object Created event names, whichever encoding its key arrived in."""
    try:
        bucket, obj = detail["bucket"]["name"], detail["object"]
        key, etag = str(obj["key"]), str(obj.get("etag", "")).strip('"')
    except (KeyError, TypeError) as error:
        raise InvalidEventError(f"S3 event without bucket/object: {detail!r}") from error
    version_id = obj.get("version-id") or None
    found = [o for k in key_candidates(key) if (o := head_or_none(s3, bucket, k, version_id))]
    if not found:
        raise InvalidEventError(
            f"s3://{bucket}/{key} does not exist, as sent or URL-decoded (deleted after upload?)"
        )
    # Both forms exist only when, say, `a+b` and `a b` were both uploaded: the etag decides.
    same = [o for o in found if not etag or o.etag == etag]
    chosen = (same or found)[0]
    # The event's etag names the version it announced (a newer upload has its own event).
    return chosen.model_copy(update={"etag": etag or chosen.etag, "size": obj.get("size")})


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
    readable_by_jobs(bucket, key)
    return bucket, key


def readable_by_jobs(bucket: str, key: str) -> None:
    """A job would die of AccessDenied on an object its role may not read: refuse it now."""
    if not key.startswith(SAGEMAKER_READABLE_PREFIXES):
        raise InvalidEventError(
            f"s3://{bucket}/{key} is outside what the pipeline's SageMaker jobs may read "
            f"({', '.join(p + '*' for p in SAGEMAKER_READABLE_PREFIXES)}); copy it under one of "
            "them and send the request again"
        )


def dataset_manifest_key(key: str) -> str:
    """A dataset URI may name the prefix or the manifest itself."""
    if key.endswith(MANIFEST_NAME):
        return key
    return key.rstrip("/") + "/" + MANIFEST_NAME


def approved_artifact(detail: dict[str, Any]) -> str:
    """The model.tar.gz of an Approved package (its first inference container's)."""
    status = detail.get("ModelApprovalStatus")
    if status != "Approved":
        raise InvalidEventError(
            f"model package {detail.get('ModelPackageArn')} is {status}, not Approved"
        )
    try:
        return str(detail["InferenceSpecification"]["Containers"][0]["ModelDataUrl"])
    except (KeyError, IndexError, TypeError) as error:
        raise InvalidEventError(
            f"{PACKAGE_STATE_CHANGE} without a container ModelDataUrl"
        ) from error


def build_request(workflow: str, event: dict[str, Any], s3: Any) -> Request:
    """Turn one accepted event into the workflow's typed request."""
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError(f"expected an EventBridge event with a detail, got {event!r}")
    run_id = str(detail.get("runId", ""))

    if detail_type == "Object Created":
        obj = s3_event_object(s3, detail)
        readable_by_jobs(obj.bucket, obj.key)
    elif detail_type == REQUEST_TYPES.get(workflow):
        uri = detail.get(URI_FIELDS[workflow])
        if not isinstance(uri, str):
            raise InvalidEventError(f"{detail_type} needs detail.{URI_FIELDS[workflow]}")
        bucket, key = in_data_bucket(uri)
        if workflow == "training":
            key = dataset_manifest_key(key)
        obj = head(s3, bucket, key, detail.get("versionId") if workflow == "batch" else None)
    elif workflow == "deploy" and detail_type == "Training Succeeded":
        model = detail.get("model")
        uri = model.get("uri") if isinstance(model, dict) else None
        if not isinstance(uri, str):
            raise InvalidEventError("Training Succeeded without detail.model.uri")
        obj = head(s3, *in_data_bucket(uri))
    elif workflow == "deploy" and detail_type == PACKAGE_STATE_CHANGE:
        obj = head(s3, *in_data_bucket(approved_artifact(detail)))
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
                model=obj, runId=run_id, endpointName=detail.get("endpointName"),
                modelPackageArn=detail.get("ModelPackageArn"),
            )  # fmt: skip
        model_uri, scene_uri = detail.get("modelUri"), detail.get("sceneUri")
        for uri in (model_uri, scene_uri):
            if isinstance(uri, str):
                in_data_bucket(uri)
        return VideoRequest(
            video=obj,
            runId=run_id,
            modelUri=model_uri,
            sceneUri=scene_uri,
            tracker=detail.get("tracker"),
        )
    except ValidationError as error:
        raise InvalidEventError(f"malformed {detail_type} detail: {error}") from error


def correlation_id(event: dict[str, Any], fallback: str) -> str:
    detail = event.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("correlationId"), str):
        return str(detail["correlationId"])
    if isinstance(event.get("id"), str):
        return str(event["id"])
    return fallback


@pipeline_step(payload=NormaliseEventPayload)
def handler(event: NormaliseEventPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {meta, request}."""
    workflow = event.workflow
    if workflow not in REQUEST_TYPES:
        raise InvalidEventError(f"unknown workflow {workflow!r}")
    meta = event.meta
    trigger = event.event or {}
    meta = meta.model_copy(update={"correlationId": correlation_id(trigger, meta.correlationId)})
    bind_correlation_id(logger, tracer, meta.correlationId)
    request = build_request(str(workflow), trigger, client("s3"))
    logger.info("normalised", extra={"workflow": workflow, "request": request.model_dump()})
    return {"meta": meta.model_dump(), "request": request.model_dump()}
