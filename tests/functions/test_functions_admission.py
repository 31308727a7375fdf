"""Batch admission on moto: the scheduler's rounds, the quota backoff, the batch plan."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import plan_batch
import pytest
import quota_backoff
import schedule_batches
from functions_support import BUCKET, CONTEXT, REGION, Aws, s3_created, video_bytes

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
NOW_MS = 1_800_000_000_000
QUOTA_CAUSE = (
    "The account-level service limit is 2 Instances (Service: AmazonSageMaker; Status Code: "
    "400; Error Code: ResourceLimitExceeded; Request ID: x)"
)


@pytest.fixture
def admission(aws: Aws) -> dict[str, Any]:
    """An admission queue and a batch state machine (moto keeps its executions RUNNING)."""
    sqs = boto3.client("sqs", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    queue = sqs.create_queue(QueueName="admission")["QueueUrl"]
    machine = sfn.create_state_machine(
        name="fairmot-test-batch", roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
    )["stateMachineArn"]  # fmt: skip
    settings = {"queue": queue, "stateMachine": machine, "maxVideos": 3, "maxJobs": 2,
                "windowSeconds": 0, "hideSeconds": 300}  # fmt: skip
    return {"sqs": sqs, "sfn": sfn, "s3": aws.s3, "settings": settings, "aws": aws}


def enqueue(admission: dict[str, Any], events: list[dict[str, Any]]) -> None:
    for event in events:
        admission["sqs"].send_message(
            QueueUrl=admission["settings"]["queue"], MessageBody=json.dumps(event)
        )


def uploads(aws: Aws, count: int) -> list[dict[str, Any]]:
    keys = [f"videos/burst/v{n}.mp4" for n in range(count)]
    for key in keys:
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(64))
    return [s3_created(aws.s3, key, event_id=f"evt-{n}") for n, key in enumerate(keys)]


def round_of(admission: dict[str, Any], now_ms: int = NOW_MS + 10**6) -> dict[str, Any]:
    return schedule_batches.schedule(
        admission["sqs"], admission["sfn"], admission["s3"], admission["settings"], now_ms
    )


def started_events(admission: dict[str, Any]) -> list[list[str]]:
    sfn, machine = admission["sfn"], admission["settings"]["stateMachine"]
    found = []
    for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        found.append(sorted(e["id"] for e in json.loads(described["input"])["events"]))
    return found


def queued(admission: dict[str, Any]) -> int:
    attributes = admission["sqs"].get_queue_attributes(
        QueueUrl=admission["settings"]["queue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_burst_becomes_full_batches_and_at_most_k_in_flight(admission: dict[str, Any]) -> None:
    enqueue(admission, uploads(admission["aws"], 7))
    assert round_of(admission)["inFlight"] == 2
    batches = started_events(admission)
    assert sorted(len(b) for b in batches) == [3, 3]  # full batches of N, K of them
    assert queued(admission) == 1  # the 7th waits for a free slot, still queued
    assert round_of(admission)["started"] == []  # both still running: nothing more starts


def test_a_partial_batch_waits_for_its_window_then_starts(admission: dict[str, Any]) -> None:
    admission["settings"]["windowSeconds"] = 60
    enqueue(admission, uploads(admission["aws"], 1))
    sent = int(
        admission["sqs"].receive_message(
            QueueUrl=admission["settings"]["queue"], VisibilityTimeout=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        )["Messages"][0]["Attributes"]["SentTimestamp"]
    )  # fmt: skip
    assert round_of(admission, now_ms=sent + 30_000)["started"] == []
    assert queued(admission) == 1  # released, not dropped
    assert len(round_of(admission, now_ms=sent + 61_000)["started"]) == 1
    assert queued(admission) == 0


def test_a_prefix_request_fans_out_into_one_request_per_video(admission: dict[str, Any]) -> None:
    aws = admission["aws"]
    for key in ["videos/day/a.mp4", "videos/day/sub/b.MKV", "videos/day/c.txt", "videos/d.mp4"]:
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(64))
    request = {"id": "req-1", "detail-type": "Video Processing Requested", "source": "upstream",
               "detail": {"prefixUri": f"s3://{BUCKET}/videos/day/", "correlationId": "c-1"}}  # fmt: skip
    enqueue(admission, [request])
    result = round_of(admission)
    assert result["expanded"] == 2 and len(result["started"]) == 1
    sfn, machine = admission["sfn"], admission["settings"]["stateMachine"]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    events = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert sorted(e["detail"]["videoUri"] for e in events["events"]) == [
        f"s3://{BUCKET}/videos/day/a.mp4", f"s3://{BUCKET}/videos/day/sub/b.MKV",
    ]  # fmt: skip
    assert {e["detail"]["correlationId"] for e in events["events"]} == {"c-1"}


def test_quota_refusals_back_off_with_jitter_within_the_budget() -> None:
    rng, state, waits = random.Random(7), {}, []
    error = {"Error": "SageMaker.AmazonSageMakerException", "Cause": QUOTA_CAUSE}
    for _ in range(12):
        state = quota_backoff.next_wait(state, error, budget=10**6, rng=rng)
        assert state["retry"] and state["quota"]
        waits.append(state["seconds"])
    assert all(1 <= w <= quota_backoff.CAP_SECONDS for w in waits)
    assert len(set(waits)) > 6  # jittered, not one fixed interval
    assert state["waitedSeconds"] == sum(waits)
    spent = quota_backoff.next_wait(state, error, budget=state["waitedSeconds"], rng=rng)
    assert (spent["retry"], spent["quota"], spent["error"]) == (False, True, "QuotaWaitExhausted")


def test_other_refusals_are_not_retried() -> None:
    error = {"Error": "SageMaker.AmazonSageMakerException",
             "Cause": "bad (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException; Request ID: x)"}  # fmt: skip
    assert quota_backoff.next_wait({}, error, 3600, random.Random(1))["retry"] is False


def test_two_versions_of_one_key_are_staged_apart(aws: Aws, meta: dict[str, str]) -> None:
    aws.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json",
        Body=json.dumps({"modelUri": f"s3://{BUCKET}/models/m/model.tar.gz"}).encode(),
    )  # fmt: skip
    key = "videos/cam/x.mp4"
    events = []
    for size in (100, 200):
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(size))
        event = s3_created(aws.s3, key)
        event["detail"]["object"]["version-id"] = aws.s3.head_object(Bucket=BUCKET, Key=key)[
            "VersionId"
        ]
        events.append(event)
    planned = plan_batch.handler({"input": {"events": events}, "meta": meta}, CONTEXT)
    job = planned["request"]["ProcessingJobName"]
    old, new = (e["detail"]["object"]["version-id"] for e in events)
    assert {v["versionId"]: v["results"]["prefix"] for v in planned["videos"]} == {
        old: f"s3://{BUCKET}/results/cam/x@{old}/", new: f"s3://{BUCKET}/results/cam/x/",
    }  # fmt: skip
    sizes = {
        o["Key"]: o["Size"]
        for o in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"batches/{job}/")["Contents"]
    }
    assert sizes == {f"batches/{job}/cam/x@{old}.mp4": 100, f"batches/{job}/cam/x.mp4": 200}
