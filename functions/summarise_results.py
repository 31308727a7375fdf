"""Batch step: read each video's summary.json from the processing job and list its outputs."""

from __future__ import annotations

import json
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import PipelineError, ResultsMissingError
from models import parse_s3_uri
from payloads import SummariseResultsPayload
from step import logger, metrics, pipeline_step

# The files the processing entry point writes per video (DESIGN section 6).
OUTPUT_FILES = {
    "annotated": "annotated.mp4",
    "tracks": "tracks.txt",
    "tracksJson": "tracks.json",
    "summary": "summary.json",
}


def scalar_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Only top-level numbers, strings and booleans: events stay small (256 KB limit)."""
    return {
        k: v
        for k, v in summary.items()
        if isinstance(v, (int, float, str, bool)) and not (isinstance(v, str) and len(v) > 1024)
    }


def summarise(s3: Any, results: dict[str, str]) -> dict[str, Any]:
    bucket, prefix = parse_s3_uri(results["prefix"])
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix}summary.json")["Body"].read()
    except ClientError as error:
        if is_missing(error):
            raise ResultsMissingError(
                f"{results['summaryUri']} is missing: the processing job wrote no summary"
            ) from error
        raise
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    present = {obj["Key"] for obj in listing.get("Contents", [])}
    outputs = {
        label: f"s3://{bucket}/{prefix}{name}"
        for label, name in OUTPUT_FILES.items()
        if f"{prefix}{name}" in present
    }
    outputs["prefix"] = results["prefix"]
    outputs["manifest"] = results["manifestUri"]  # this job's own, beside the results folder
    full = json.loads(body)
    summary = scalar_summary(full)
    if isinstance(full.get("analytics"), dict):
        # Line counts, zone totals and distance (summary.json's `analytics`): a few numbers
        # per line and zone, small enough for the event.
        summary["analytics"] = full["analytics"]
    return {"summary": summary, "outputs": outputs}


def report(s3: Any, video: dict[str, Any]) -> dict[str, Any]:
    """One video of a batch: its summary and outputs, or why it has none (it fails alone)."""
    try:
        return {**video, "ok": True, **summarise(s3, video["results"])}
    except PipelineError as error:
        return {**video, "ok": False, "error": type(error).__name__, "reason": str(error)}


@pipeline_step(payload=SummariseResultsPayload)
def handler(event: SummariseResultsPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {reports}: per video ok with summary and outputs, or not ok with error and reason
    (one call per job, not one per video)."""
    s3 = client("s3")
    reports = [report(s3, video) for video in event.videos]
    done = sum(r["ok"] for r in reports)
    metrics.add_metric(name="VideosProcessed", unit=MetricUnit.Count, value=done)
    metrics.add_metric(name="VideosFailed", unit=MetricUnit.Count, value=len(reports) - done)
    logger.info("batch summarised", extra={"job": event.processingJobName, "ok": done,
                                           "failed": len(reports) - done})  # fmt: skip
    return {"reports": reports}
