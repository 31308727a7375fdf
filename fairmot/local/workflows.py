"""Driving the deployed workflows from outside, as a user of the stack would.

Helpers shared by the demo and the workflow tests: start nothing directly, but wait for the
execution an S3 upload or an event started, and read what the example consumer queue received.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from fairmot.local.stack import LocalAws, WorkflowError


@dataclass(frozen=True)
class WorkflowRun:
    """One finished execution and the result event it published."""

    execution_arn: str
    status: str
    output: dict[str, Any] | None
    failure: str | None


def wait_for_workflow(
    aws: LocalAws, state_machine_arn: str, *, known: int, timeout_s: float
) -> WorkflowRun:
    """Wait for the state machine's next execution (after `known` ones) to end."""
    started = aws.wait_for_new_execution(state_machine_arn, known=known, timeout_s=60)
    arn = started["executionArn"]
    description = aws.wait_for_execution(arn, timeout_s=timeout_s)
    status = description["status"]
    output = json.loads(description["output"]) if description.get("output") else None
    failure = None if status == "SUCCEEDED" else aws.failure_of(arn)
    return WorkflowRun(arn, status, output, failure)


def consumer_events(aws: LocalAws, queue_url: str, *, wait_s: float = 0.5) -> list[dict[str, Any]]:
    """Drain the example consumer queue: the EventBridge events (envelope and detail)."""
    sqs = aws.client("sqs")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not messages and time.monotonic() > deadline:
            return events
        if not messages:
            time.sleep(0.2)


def wait_for_event(
    aws: LocalAws, detail_types: set[str], *, after: int, timeout_s: float
) -> dict[str, Any]:
    """The first event published on the bus (index >= after) whose type is in detail_types."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in aws.published.events[after:]:
            if event["detail-type"] in detail_types:
                return event
        time.sleep(0.3)
    raise WorkflowError(f"no {' or '.join(sorted(detail_types))} event within {timeout_s:.0f}s")


def result_queue_url(aws: LocalAws) -> str:
    """The example consumer queue: the SQS queue a rule on the pipeline bus targets."""
    assert aws.stack is not None
    for name, value in aws.stack.outputs.items():
        if name.lower().startswith("results") and name.endswith("QueueUrl"):
            return str(value)
    raise WorkflowError(f"the template has no results queue output: {list(aws.stack.outputs)}")
