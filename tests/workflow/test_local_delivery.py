"""Events as AWS delivers them, through the real batch state machine in local mode: object keys
raw or URL-encoded, and one event delivered twice at once."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from fairmot.local.stack import LocalAws
from fairmot.operator import (
    consumer_events,
    failure_of,
    result_queue_url,
    wait_for_execution,
    wait_for_workflow,
)
from tests.workflow.conftest import register_latest_model

pytestmark = pytest.mark.slow
ODD_KEY = "videos/cam+1/día 2.mp4"  # a literal plus, a space and non-ASCII


def s3_event(aws: LocalAws, key: str, sent_key: str) -> dict[str, Any]:
    """An Object Created event on EventBridge for `key`, its key field written as `sent_key`."""
    assert aws.stack is not None
    head = aws.client("s3").head_object(Bucket=aws.stack.bucket, Key=key)
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1", "resources": [f"arn:aws:s3:::{aws.stack.bucket}"],
        "detail": {
            "version": "0", "bucket": {"name": aws.stack.bucket},
            "object": {"key": sent_key, "size": head["ContentLength"],
                       "etag": head["ETag"].strip('"'), "version-id": head.get("VersionId")},
            "reason": "PutObject",
        },
    }  # fmt: skip


def mute_upload_rule(aws: LocalAws) -> None:
    """Stop S3 uploads of videos from reaching batch admission: the test delivers their events
    to the batch state machine itself."""
    assert aws.stack is not None
    events = aws.client("events")
    admission = aws.stack.queues["AdmissionQueue"].rsplit("/", 1)[-1]
    for rule in events.list_rules()["Rules"]:  # the default bus: where S3 events arrive
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        ids = [t["Id"] for t in targets if t["Arn"].endswith(f":{admission}")]
        if ids:
            events.remove_targets(Rule=rule["Name"], Ids=ids)


def run_batch(aws: LocalAws, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start one execution per event at the same moment (EventBridge names them at random)."""
    assert aws.stack is not None
    sfn = aws.client("stepfunctions")
    arn = aws.stack.state_machine("batch")
    barrier = threading.Barrier(len(events))
    started: list[str] = []

    def start(event: dict[str, Any]) -> None:
        barrier.wait()
        answer = sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()),
                                     input=json.dumps(event))  # fmt: skip
        started.append(answer["executionArn"])

    threads = [threading.Thread(target=start, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [wait_for_execution(aws, execution, timeout_s=300) for execution in started]


def test_raw_and_url_encoded_keys_both_reach_their_object(
    pipeline: LocalAws, tiny_model: Path, tiny_video: Path
) -> None:
    assert pipeline.stack is not None
    bucket = pipeline.stack.bucket
    register_latest_model(pipeline, tiny_model)
    s3 = pipeline.client("s3")
    # Raw: moto's S3 -> EventBridge -> rule delivers the key as stored.
    s3.upload_file(str(tiny_video), bucket, ODD_KEY)
    raw = wait_for_workflow(pipeline, pipeline.stack.state_machine("batch"), known=0, timeout_s=300)
    assert raw.status == "SUCCEEDED", raw.failure
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert (event["detail-type"], event["detail"]["video"]) == (
        "Video Processed", f"s3://{bucket}/{ODD_KEY}",
    )  # fmt: skip
    assert event["detail"]["outputs"]["prefix"] == f"s3://{bucket}/results/cam+1/día 2/"
    manifest_key = event["detail"]["outputs"]["manifest"].split("/", 3)[3]
    assert manifest_key.startswith("results/fairmot-dev-proc-")  # this batch job's own manifest
    run_manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert [o["video"] for o in run_manifest["outputs"]] == ["cam+1/día 2.mp4"]

    # URL-encoded, as S3 notifications send it (the rule muted: only this delivery).
    mute_upload_rule(pipeline)
    other = "videos/cam+2/día 3.mp4"
    s3.upload_file(str(tiny_video), bucket, other)
    encoded = quote_plus(other, safe="/")
    assert encoded == "videos/cam%2B2/d%C3%ADa+3.mp4"
    (run,) = run_batch(pipeline, [s3_event(pipeline, other, encoded)])
    assert run["status"] == "SUCCEEDED", failure_of(pipeline, run["executionArn"])
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail"]["video"] == f"s3://{bucket}/{other}"
    summary = "results/cam+2/día 3/summary.json"
    assert json.loads(s3.get_object(Bucket=bucket, Key=summary)["Body"].read())["frames"] == 12


def test_two_simultaneous_deliveries_start_one_job_and_no_failure(
    pipeline: LocalAws, tiny_model: Path, tiny_video: Path
) -> None:
    assert pipeline.stack is not None
    register_latest_model(pipeline, tiny_model)
    mute_upload_rule(pipeline)  # the two deliveries below are the only ones
    key = "videos/twice.mp4"
    pipeline.client("s3").upload_file(str(tiny_video), pipeline.stack.bucket, key)
    event = s3_event(pipeline, key, key)
    runs = run_batch(pipeline, [event, json.loads(json.dumps(event))])
    for run in runs:
        assert run["status"] == "SUCCEEDED", failure_of(pipeline, run["executionArn"])
    jobs = pipeline.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert len(jobs) == 1
    types = [
        e["detail-type"]
        for e in consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    ]
    assert types == ["Video Processed"]
