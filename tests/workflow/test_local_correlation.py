"""Each triggering event carries its own id, and the workflows' correlation id follows it."""

from __future__ import annotations

import json

import pytest

from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow

pytestmark = pytest.mark.slow


def test_two_uploads_get_different_correlation_ids(pipeline: LocalAws) -> None:
    assert pipeline.stack is not None
    batch = pipeline.stack.state_machine("batch")
    s3 = pipeline.client("s3")
    ids = []
    for index, key in enumerate(("videos/cam1/a.mp4", "videos/cam1/b.mp4")):
        # Not a video: each batch execution refuses it before any job, with its own event.
        s3.put_object(Bucket=pipeline.stack.bucket, Key=key, Body=b"\x00not a video")
        run = wait_for_workflow(pipeline, batch, known=index, timeout_s=120)
        assert run.status == "FAILED"
        description = pipeline.client("stepfunctions").describe_execution(
            executionArn=run.execution_arn
        )
        (event,) = json.loads(description["input"])["events"]  # admitted alone: a batch of 1
        ids.append(event["id"])
    events = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert [e["detail-type"] for e in events] == ["Video Processing Failed"] * 2
    correlation = [e["detail"]["correlationId"] for e in events]
    assert len(set(ids)) == 2
    assert sorted(correlation) == sorted(ids)
