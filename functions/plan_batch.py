"""Batch step: one CreateProcessingJob request for a batch of videos, each its exact version.

The scheduler (schedule_batches) starts a batch execution with up to BatchMaxVideos queued
events; a direct start may pass one event. Each event is normalised and validated here; the
ones that fail are returned as `rejected` (each gets its own failure event) and the rest share
one job. A processing input cannot name an S3 version, so each video version is copied to a
job-owned prefix, batches/<job>/, at the path its results take (results/<path>/, or
results/<path>@<version>/ for a version a newer upload superseded): the job reads exactly the
bytes its event announced, and two versions of one key give two results.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import PipelineError
from models import Meta, Video, VideoRequest, parse_s3_uri
from names import digest, resource_name
from normalise_event import build_request, correlation_id
from payloads import PlanBatchPayload
from plan_processing import (
    MODEL_DIR,
    OUTPUT_DIR,
    SCENE_DIR,
    SCENE_SUFFIX,
    VIDEO_DIR,
    job_settings,
    resolve_model,
    s3_input,
)
from plan_training import job_exists
from settings import env, env_int, name_prefix
from step import logger, metrics, pipeline_step
from tags import pipeline_tags
from validate_video import DEFAULT_MAX_VIDEO_BYTES, RESULTS_PREFIX, validate

BATCHES_PREFIX = "batches/"  # job-owned copies of the videos (expired by a lifecycle rule)


def batch_events(execution_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The scheduler's {"events": [...]}, or one event started directly."""
    events = execution_input.get("events")
    return list(events) if isinstance(events, list) else [execution_input]


def admit(
    s3: Any, events: list[dict[str, Any]], fallback_id: str, max_bytes: int
) -> tuple[list[tuple[VideoRequest, Video, str]], list[dict[str, Any]]]:
    """(request, video, correlation id) of each valid event; the rejected ones with reasons."""
    accepted, rejected, seen = [], [], set()
    for event in events:
        correlation = correlation_id(event, fallback_id)
        try:
            request = build_request("batch", event, s3)
            if not isinstance(request, VideoRequest):  # build_request("batch") makes only these
                raise TypeError(type(request).__name__)
            video = validate(s3, request, max_bytes)
        except PipelineError as error:
            rejected.append(
                {"input": event, "correlationId": correlation,
                 "error": type(error).__name__, "reason": str(error)}
            )  # fmt: skip
            continue
        identity = (video.object.key, video.object.versionId, video.object.etag)
        if identity not in seen:  # a duplicate delivery in the same batch: processed once
            seen.add(identity)
            accepted.append((request, video, correlation))
    return accepted, rejected


def staged_key(job: str, video: Video) -> str:
    """batches/<job>/<results path><suffix>: the job's output folder is the results path."""
    _, results_key = parse_s3_uri(video.resultsPrefix)
    relative = results_key[len(RESULTS_PREFIX) :].rstrip("/")
    return f"{BATCHES_PREFIX}{job}/{relative}{PurePosixPath(video.object.key).suffix}"


def stage(s3: Any, job: str, video: Video) -> None:
    """Copy the exact version (and its scene file, if any) under the job's prefix."""
    obj = video.object
    target = staged_key(job, video)
    source = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.versionId:
        source["VersionId"] = obj.versionId
    s3.copy(source, obj.bucket, target)  # managed copy: multipart above 5 GB
    scene = str(PurePosixPath(obj.key).with_suffix("")) + SCENE_SUFFIX
    try:
        s3.copy(
            {"Bucket": obj.bucket, "Key": scene},
            obj.bucket,
            str(PurePosixPath(target).with_suffix("")) + SCENE_SUFFIX,
        )
    except ClientError as error:
        if not is_missing(error):
            raise


def sharded(channel: dict[str, Any]) -> dict[str, Any]:
    """ShardedByS3Key: each of the job's instances (ProcessingInstanceCount) gets its share."""
    channel["S3Input"]["S3DataDistributionType"] = "ShardedByS3Key"
    return channel


def plan(s3: Any, sagemaker: Any, execution_input: dict[str, Any], meta: Meta) -> dict[str, Any]:
    max_bytes = env_int("MAX_VIDEO_BYTES", DEFAULT_MAX_VIDEO_BYTES)
    accepted, rejected = admit(s3, batch_events(execution_input), meta.correlationId, max_bytes)
    result: dict[str, Any] = {"rejected": rejected, "empty": not accepted, "duplicate": False}
    if not accepted:
        return {**result, "videos": [], "request": {}, "modelUri": ""}
    # The scheduler groups events by model and scene: the first request speaks for the batch.
    request = accepted[0][0]
    model_uri = resolve_model(s3, sagemaker, request, env("ENDPOINT_NAME", "fairmot-dev-tracker"))
    identities = sorted(
        f"{v.object.key}\x1f{v.object.versionId}\x1f{v.object.etag}" for _, v, _ in accepted
    )
    name = resource_name(
        name_prefix(), "proc", f"{len(accepted)}-videos",
        digest(*identities, request.runId, model_uri, *([request.tracker] if request.tracker else [])),
    )  # fmt: skip
    duplicate = job_exists(sagemaker.describe_processing_job, ProcessingJobName=name)
    bucket = accepted[0][1].object.bucket
    if not duplicate:
        for _, video, _ in accepted:
            stage(s3, name, video)
    scene_inputs = []
    if request.sceneUri:
        parse_s3_uri(request.sceneUri)
        scene_inputs = [s3_input("scene", request.sceneUri, SCENE_DIR)]
    manifest_uri = f"s3://{bucket}/{RESULTS_PREFIX}{name}.manifest.json"
    body = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            sharded(s3_input("video", f"s3://{bucket}/{BATCHES_PREFIX}{name}/", VIDEO_DIR)),
            s3_input("model", model_uri, MODEL_DIR),
            *scene_inputs,
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "results", "S3Output": {
                    "S3Uri": f"s3://{bucket}/{RESULTS_PREFIX}", "LocalPath": OUTPUT_DIR,
                    "S3UploadMode": "EndOfJob"}},
            ]
        },
        **job_settings(name, request.tracker),
        "Tags": pipeline_tags(meta, video=f"{len(accepted)} videos, first {accepted[0][1].uri}"),
    }  # fmt: skip
    videos = [
        {
            "video": video.uri,
            "versionId": video.object.versionId,
            "correlationId": correlation,
            "results": {
                "prefix": video.resultsPrefix,
                "summaryUri": f"{video.resultsPrefix}summary.json",
                "manifestUri": manifest_uri,
            },
        }
        for _, video, correlation in accepted
    ]
    return {**result, "duplicate": duplicate, "videos": videos, "request": body,
            "modelUri": model_uri}  # fmt: skip


@pipeline_step(payload=PlanBatchPayload)
def handler(event: PlanBatchPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {videos, rejected, empty, duplicate, request, modelUri}."""
    result = plan(client("s3"), client("sagemaker"), event.input, event.meta)
    metrics.add_metric(name="VideosAdmitted", unit=MetricUnit.Count, value=len(result["videos"]))
    metrics.add_metric(name="VideosRejected", unit=MetricUnit.Count, value=len(result["rejected"]))
    logger.info(
        "batch planned",
        extra={"job": result["request"].get("ProcessingJobName"), "videos": len(result["videos"]),
               "rejected": len(result["rejected"])},
    )  # fmt: skip
    return result
