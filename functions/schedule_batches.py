"""Batch admission: queued video events become batch executions of up to N videos, at most K
of them in flight, so a burst of uploads shares each job's start-up and stays within the
account's concurrent processing-job quota.

Uploads (S3 Object Created) and Video Processing Requested events land in the admission queue
(SQS). An EventBridge schedule invokes this function every minute, one invocation at a time
(ReservedConcurrentExecutions 1). Each run counts the batch executions still running; while
fewer than K (MAX_CONCURRENT_JOBS) run, it takes up to N (BATCH_MAX_VIDEOS) messages and starts
one execution with them, except that a partial batch waits until its oldest message is
BATCH_WINDOW_SECONDS old (a lone upload waits that long, not forever). A prefix request
(detail.prefixUri) is expanded here into one Video Processing Requested per video under it, sent
back into the same queue. Messages are deleted only once their execution has started: anything
that fails comes back after the visibility timeout, and after the queue's maxReceiveCount moves
to the dead-letter queue (alarmed; `fairmot replay` re-admits it).
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from errors import InvalidEventError
from names import digest
from normalise_event import in_data_bucket
from settings import env, env_int
from step import logger, metrics, tracer
from validate_video import VIDEO_SUFFIXES

SQS_MAX_MESSAGES = 10  # ReceiveMessage, SendMessageBatch and DeleteMessageBatch take at most 10
REQUEST_TYPE = "Video Processing Requested"
REQUEST_SOURCE = "fairmot.scheduler"


def running_batches(sfn: Any, state_machine: str) -> int:
    """Batch executions in flight: each runs (or waits to run) one processing job."""
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine, statusFilter="RUNNING"
    )
    return sum(len(page["executions"]) for page in pages)


def receive(sqs: Any, queue: str, limit: int, hide_s: int) -> list[dict[str, Any]]:
    """Up to `limit` messages, hidden from other receivers for `hide_s` seconds."""
    taken: list[dict[str, Any]] = []
    while len(taken) < limit:
        answer = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=min(SQS_MAX_MESSAGES, limit - len(taken)),
            VisibilityTimeout=hide_s, WaitTimeSeconds=0, MessageSystemAttributeNames=["SentTimestamp"],
        )  # fmt: skip
        messages = answer.get("Messages", [])
        if not messages:
            break
        taken += messages
    return taken


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + SQS_MAX_MESSAGES] for i in range(0, len(items), SQS_MAX_MESSAGES)]


def delete(sqs: Any, queue: str, messages: list[dict[str, Any]]) -> None:
    for chunk in _chunks(messages):
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
            ],
        )


def release(sqs: Any, queue: str, messages: list[dict[str, Any]]) -> None:
    """Make messages visible again at once (they wait for the window or a free slot)."""
    for chunk in _chunks(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def prefix_of(event: dict[str, Any]) -> str | None:
    detail = event.get("detail")
    if event.get("detail-type") == REQUEST_TYPE and isinstance(detail, dict):
        prefix = detail.get("prefixUri")
        return prefix if isinstance(prefix, str) else None
    return None


def expand(s3: Any, sqs: Any, queue: str, event: dict[str, Any], prefix_uri: str) -> int:
    """Queue one Video Processing Requested per video under the prefix; how many."""
    bucket, prefix = in_data_bucket(prefix_uri)
    detail = {k: v for k, v in event["detail"].items() if k != "prefixUri"}
    detail.setdefault("correlationId", str(event.get("id") or digest(prefix_uri)))
    requests = [
        {"detail-type": REQUEST_TYPE, "source": REQUEST_SOURCE, "id": f"{detail['correlationId']}-{n}",
         "detail": {**detail, "videoUri": f"s3://{bucket}/{obj['Key']}"}}
        for n, obj in enumerate(
            obj
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
            if obj["Key"].lower().endswith(VIDEO_SUFFIXES)
        )
    ]  # fmt: skip
    for chunk in _chunks(requests):
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(r)} for i, r in enumerate(chunk)],
        )
    return len(requests)


def batch_group(event: dict[str, Any]) -> tuple[str, ...]:
    """Videos of one job share what their requests named for the whole job: the model, the
    default scene, the tracker and the run id (the batch's first request speaks for all)."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return "", "", "", ""
    return tuple(str(detail.get(k) or "") for k in ("modelUri", "sceneUri", "tracker", "runId"))


def schedule(sqs: Any, sfn: Any, s3: Any, settings: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """One admission round (see the module docstring); what it did."""
    queue, machine = settings["queue"], settings["stateMachine"]
    size, limit = settings["maxVideos"], settings["maxJobs"]
    in_flight = running_batches(sfn, machine)
    started: list[str] = []
    expanded = 0
    while in_flight < limit:
        messages = receive(sqs, queue, size, settings["hideSeconds"])
        if not messages:
            break
        videos = []
        for message in messages:
            event = json.loads(message["Body"])
            prefix = prefix_of(event)
            if prefix is None:
                videos.append((message, event))
                continue
            try:
                expanded += expand(s3, sqs, queue, event, prefix)
            except InvalidEventError:  # the batch workflow rejects it with a failure event
                videos.append((message, event))
                continue
            delete(sqs, queue, [message])
        if not videos:
            continue
        oldest = min(int(m["Attributes"]["SentTimestamp"]) for m, _ in videos)
        if len(videos) < size and now_ms - oldest < settings["windowSeconds"] * 1000:
            release(sqs, queue, [m for m, _ in videos])
            break
        groups: dict[tuple[str, ...], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for message, event in videos:
            groups.setdefault(batch_group(event), []).append((message, event))
        for members in groups.values():
            if in_flight >= limit:
                release(sqs, queue, [m for m, _ in members])
                continue
            name = "batch-" + digest(*sorted(m["MessageId"] for m, _ in members))
            sfn.start_execution(
                stateMachineArn=machine, name=name,
                input=json.dumps({"events": [e for _, e in members]}),
            )  # fmt: skip
            delete(sqs, queue, [m for m, _ in members])
            started.append(name)
            in_flight += 1
    return {"started": started, "inFlight": in_flight, "expanded": expanded}


# Not a pipeline step (no execution, no payload, no correlation id): the schedule's tick.
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A Scheduled Event (its content unused) -> {started, inFlight, expanded}."""
    settings = {
        "queue": env("ADMISSION_QUEUE_URL"),
        "stateMachine": env("BATCH_STATE_MACHINE_ARN"),
        "maxVideos": env_int("BATCH_MAX_VIDEOS", 50),
        "maxJobs": env_int("MAX_CONCURRENT_JOBS", 2),
        "windowSeconds": env_int("BATCH_WINDOW_SECONDS", 60),
        "hideSeconds": env_int("ADMISSION_VISIBILITY_SECONDS", 300),
    }
    result = schedule(
        client("sqs"), client("stepfunctions"), client("s3"), settings,
        int(time.time() * 1000),
    )  # fmt: skip
    metrics.add_metric(name="BatchesStarted", unit=MetricUnit.Count, value=len(result["started"]))
    logger.info("admission round", extra=result)
    return result
