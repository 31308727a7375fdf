"""What an operator asks of a stack, local or deployed: status, histories, invoke, upload, and
waiting for the workflows an upload or an event started.

Each verb reads through boto3 clients (a `ConsoleSource`: the clients, state machines, bucket
and logs of one stack; or anything with `client(service)`, as the local stack), so `fairmot
local status|logs|invoke|upload`, the demo and the workflow tests ask the same of the local
stack as they would of a deployed one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fairmot.console.source import ConsoleSource
from fairmot.upload import s3_parts

ACTIVE_JOB = {"InProgress", "Stopping"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv"}
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class Clients(Protocol):
    def client(self, service: str) -> Any: ...


class WorkflowError(RuntimeError):
    """A workflow ended other than as expected; the message says where and why."""


def _clock(iso: str | None) -> str:
    return iso[11:19] if iso else "-"


def status_lines(source: ConsoleSource) -> list[str]:
    """`fairmot local status`: executions with their current state, jobs, endpoints."""
    lines = ["executions:"]
    for e in source.executions():
        state = (source.execution(e["arn"])["visited"] or ["-"])[-1]
        lines.append(
            f"  {e['machine']:<28} {e['status']:<10} {_clock(e['start'])}-{_clock(e['stop'])}"
            f"  {state:<24} {e['name']}"
        )
    lines.append("jobs:")
    lines += [f"  {j['kind']:<10} {j['status']:<11} {j['name']}" for j in source.jobs()]
    lines.append(f"videos waiting for a batch: {queued_videos(source)}")
    lines.append("endpoints:")
    answer = source.client("sagemaker").list_endpoints()
    lines += [f"  {e['EndpointStatus']:<11} {e['EndpointName']}" for e in answer["Endpoints"]]
    return lines


def queued_videos(source: ConsoleSource) -> int:
    """Videos in the admission queue, waiting for the batch scheduler (or being admitted)."""
    if source.admission_url is None:
        return 0
    attributes = source.client("sqs").get_queue_attributes(
        QueueUrl=source.admission_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def wait_until_idle(source: ConsoleSource, timeout_s: float, poll_s: float = 1.0) -> list[str]:
    """Wait until no execution runs, no job is active and no video waits for a batch; return the
    failed executions' names."""
    deadline = time.monotonic() + timeout_s
    while True:
        # The queue first: a video leaves it only once its batch execution has started, so an
        # empty queue followed by no running execution means nothing is on its way.
        queued = queued_videos(source)
        found = source.executions()
        busy = (
            queued > 0
            or any(e["status"] == "RUNNING" for e in found)
            or any(j["status"] in ACTIVE_JOB for j in source.jobs())
        )
        if not busy:
            return [e["name"] for e in found if e["status"] != "SUCCEEDED"]
        if time.monotonic() > deadline:
            raise TimeoutError(f"the stack was still busy after {timeout_s:.0f}s")
        time.sleep(poll_s)


# ---- logs -----------------------------------------------------------------------------------


def execution_lines(source: ConsoleSource, name_or_arn: str) -> list[str] | None:
    """An execution's history, one line per event (state names, errors and causes)."""
    sfn = source.client("stepfunctions")
    arn = next(
        (e["arn"] for e in source.executions() if name_or_arn in (e["name"], e["arn"])),
        None,
    )
    if arn is None:
        return None
    lines = []
    for event in sfn.get_execution_history(executionArn=arn)["events"]:
        details: dict[str, Any] = next(
            (v for k, v in event.items() if k.endswith("EventDetails")), {}
        )
        text = details.get("name") or details.get("error") or ""
        if details.get("cause"):
            text += f": {details['cause']}"
        when = event["timestamp"].strftime("%H:%M:%S")
        lines.append(f"{when} {event['type']:<28} {text}".rstrip())
    return lines


# ---- invoke and upload ----------------------------------------------------------------------


def invoke(source: ConsoleSource, function: str, event: Any) -> tuple[Any, str | None]:
    """Invoke a deployed function (its physical name) on an event: (payload, error or None)."""
    answer = source.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps(event).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"null")
    return payload, answer.get("FunctionError")


def encode_frames(folder: Path, video: Path, fps: float) -> Path:
    """A folder of frames (a sequence's img1/) as one mp4, in name order."""
    import cv2

    from fairmot.video import VideoWriter

    frames = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not frames:
        raise ValueError(f"{folder}: no .jpg or .png frames to encode")
    first = cv2.imread(str(frames[0]))
    if first is None:
        raise ValueError(f"{frames[0]}: not an image")
    height, width = first.shape[:2]
    with VideoWriter(video, fps=fps, width=width, height=height) as writer:
        for path in frames:
            image = cv2.imread(str(path))
            if image is None:
                raise ValueError(f"{path}: not an image")
            writer.write(image)
    return video


def upload(
    target: ConsoleSource, source: Path, destination: str, scratch: Path, fps: float = 30.0
) -> str:
    """Copy a file (or a frames folder, encoded to mp4 in `scratch`) to s3://BUCKET/KEY."""
    bucket, key = s3_parts(destination)
    if not key or key.endswith("/"):
        raise ValueError(f"{destination}: name the object, e.g. s3://BUCKET/videos/clip.mp4")
    if source.is_dir():
        if Path(key).suffix.lower() not in VIDEO_SUFFIXES:
            raise ValueError(f"{destination}: a frames folder uploads as a video (.mp4 key)")
        scratch.mkdir(parents=True, exist_ok=True)
        source = encode_frames(source, scratch / "upload.mp4", fps)
    elif not source.is_file():
        raise ValueError(f"{source}: no such file or folder")
    target.client("s3").upload_file(str(source), bucket, key)
    return f"s3://{bucket}/{key}"


# ---- workflows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowRun:
    """One finished execution and the result event it published."""

    execution_arn: str
    status: str
    output: dict[str, Any] | None
    failure: str | None


def wait_for_execution(stack: Clients, arn: str, timeout_s: float = 600.0) -> dict[str, Any]:
    """Poll describe_execution until the execution ends; return the description."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if description["status"] in TERMINAL_EXECUTION:
            return description
        if time.monotonic() > deadline:
            raise WorkflowError(f"execution {arn} still {description['status']} after {timeout_s}s")
        time.sleep(0.5)


def wait_for_new_execution(
    stack: Clients, state_machine_arn: str, known: int = 0, timeout_s: float = 60.0
) -> dict[str, Any]:
    """Wait until the state machine has more than `known` executions; return the newest."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
        if len(found) > known:
            return dict(max(found, key=lambda e: e["startDate"]))
        time.sleep(0.2)
    raise WorkflowError(
        f"no execution of {state_machine_arn.rsplit(':', 1)[-1]} started within {timeout_s}s: "
        "was the triggering event delivered? (check the rule's pattern and the object key)"
    )


def failure_of(stack: Clients, arn: str) -> str:
    """The error and cause of a failed execution, from its history."""
    sfn = stack.client("stepfunctions")
    history = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
    for event in history:
        for key, value in event.items():
            if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
                return f"{value.get('error')}: {value.get('cause', '')}"
    return "unknown failure"


def wait_for_workflow(
    stack: Clients, state_machine_arn: str, *, known: int, timeout_s: float
) -> WorkflowRun:
    """Wait for the state machine's next execution (after `known` ones) to end."""
    arn = wait_for_new_execution(stack, state_machine_arn, known=known)["executionArn"]
    description = wait_for_execution(stack, arn, timeout_s=timeout_s)
    status = description["status"]
    output = json.loads(description["output"]) if description.get("output") else None
    failure = None if status == "SUCCEEDED" else failure_of(stack, arn)
    return WorkflowRun(arn, status, output, failure)


def result_queue_url(outputs: Mapping[str, Any]) -> str:
    """The example consumer queue (the ResultsQueueUrl output): the rule on the bus targets it."""
    for name, value in outputs.items():
        if name.lower().startswith("results") and name.endswith("QueueUrl"):
            return str(value)
    raise WorkflowError(f"the stack has no results queue output: {list(outputs)}")


def consumer_events(stack: Clients, queue_url: str, *, wait_s: float = 0.5) -> list[dict[str, Any]]:
    """Drain the example consumer queue: the EventBridge events (envelope and detail)."""
    sqs = stack.client("sqs")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not messages and time.monotonic() > deadline:
            return events
        if not messages:
            time.sleep(0.2)
