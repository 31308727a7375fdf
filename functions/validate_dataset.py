"""Training step: read manifest.json and check that every named sequence is complete in S3."""

from __future__ import annotations

import json
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import DatasetInvalidError
from models import (
    SAGEMAKER_READABLE_PREFIXES,
    Dataset,
    TrainingRequest,
    parse_s3_uri,
)
from payloads import ValidateDatasetPayload
from pydantic import ValidationError
from settings import env_optional
from step import logger, pipeline_step

from fairmot_contracts.manifest import MANIFEST_NAME, DatasetManifest

# What a MOT Challenge training sequence needs (img1/ is checked for at least one frame).
REQUIRED_FILES = ("seqinfo.ini", "gt/gt.txt")
FRAMES_DIR = "img1/"


def read_manifest(s3: Any, request: TrainingRequest) -> DatasetManifest:
    """The manifest version the event names: job names come from its etag."""
    obj = request.manifest
    # Without the etag check a superseded event would train the newer manifest under the
    # older version's name, and the newer version's own event would train it a second time.
    condition = {"IfMatch": f'"{obj.etag}"'} if obj.etag else {}
    try:
        body = s3.get_object(Bucket=obj.bucket, Key=obj.key, **condition)["Body"].read()
    except ClientError as error:
        if is_missing(error):
            raise DatasetInvalidError(f"{obj.uri} does not exist") from error
        if error.response.get("Error", {}).get("Code") == "PreconditionFailed":
            raise DatasetInvalidError(
                f"{obj.uri} changed after this event (etag {obj.etag}): the newer upload's own "
                "event trains it"
            ) from error
        raise
    try:
        return DatasetManifest.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise DatasetInvalidError(f"{obj.uri} is not a valid manifest: {error}") from error


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_missing(error):
            return False
        raise
    return True


def missing_parts(s3: Any, bucket: str, prefix: str, sequence: str) -> list[str]:
    """What sequence `sequence` under `prefix` lacks (empty when complete)."""
    if not sequence or sequence.startswith("/") or ".." in sequence.split("/"):
        return [f"{sequence!r} is not a relative sequence directory"]
    base = f"{prefix}{sequence.rstrip('/')}/"
    problems = [f"{base}{name}" for name in REQUIRED_FILES if not exists(s3, bucket, base + name)]
    frames = s3.list_objects_v2(Bucket=bucket, Prefix=base + FRAMES_DIR, MaxKeys=1)
    if not frames.get("KeyCount"):
        problems.append(f"{base}{FRAMES_DIR} (no frames)")
    return problems


def checked_pretrained(bucket: str, uri: str) -> str:
    """The pretrained weights' URI, when the training job's role can read it."""
    try:
        found_bucket, key = parse_s3_uri(uri)
    except ValueError as error:
        raise DatasetInvalidError(f"pretrained: {error}") from error
    if found_bucket != bucket or not key.startswith(SAGEMAKER_READABLE_PREFIXES):
        raise DatasetInvalidError(
            f"pretrained {uri} is not readable by the training job: put the weights under "
            f"s3://{bucket}/pretrained/ (or models/, training-output/)"
        )
    return uri


def validate(s3: Any, request: TrainingRequest) -> Dataset:
    """The dataset the manifest describes, with the request's overrides applied."""
    manifest = read_manifest(s3, request)
    obj = request.manifest
    prefix = obj.key[: -len(MANIFEST_NAME)]
    problems = [p for seq in manifest.sequences for p in missing_parts(s3, obj.bucket, prefix, seq)]
    if problems:
        raise DatasetInvalidError(
            f"{obj.uri}: the manifest names sequences that are incomplete in S3; missing: "
            + ", ".join(f"s3://{obj.bucket}/{p}" for p in problems)
            + ". Upload the whole dataset with `fairmot upload-dataset`."
        )
    pretrained = manifest.pretrained or env_optional("PRETRAINED_MODEL_URI")
    return Dataset(
        pretrained=checked_pretrained(obj.bucket, pretrained) if pretrained else None,
        name=manifest.name,
        uri=f"s3://{obj.bucket}/{prefix}",
        manifest=obj,
        sequences=manifest.sequences,
        hyperparameters={**manifest.hyperparameters, **request.hyperparameters},
        tuning=manifest.tuning,
        deploy=manifest.deploy if request.deploy is None else request.deploy,
        runId=request.runId,
        auto_approve=manifest.auto_approve,
    )


@pipeline_step(payload=ValidateDatasetPayload)
def handler(event: ValidateDatasetPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {dataset}."""
    dataset = validate(client("s3"), event.request)
    logger.info("dataset valid", extra={"dataset": dataset.uri, "sequences": dataset.sequences})
    return {"dataset": dataset.model_dump()}
