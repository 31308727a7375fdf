"""What an operator asks of a running local stack (`fairmot local up`): where it is, what runs.

`RunningStack` reads the daemon's STATE_DIR/stack.json and talks to it over HTTP with boto3, as
any other client would; the functions below answer `fairmot local env|status|logs|invoke|
upload` and feed the console. Nothing here patches moto: the daemon owns the stack.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairmot.local.daemon import STATE_FILE, running_pid
from fairmot.local.sagemaker_jobs import s3_parts

if TYPE_CHECKING:
    from fairmot.console.source import ConsoleSource

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ACTIVE_JOB = {"InProgress", "Stopping"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv"}


class StackNotRunning(RuntimeError):
    """No local stack answers at this state dir."""


@dataclass(frozen=True)
class RunningStack:
    """The stack started by `fairmot local up` in `state_dir` (see fairmot.local.daemon)."""

    state_dir: Path
    description: dict[str, Any]

    @classmethod
    def open(cls, state_dir: Path) -> RunningStack:
        state_dir = state_dir.resolve()
        if running_pid(state_dir) is None or not (state_dir / STATE_FILE).is_file():
            raise StackNotRunning(
                f"no local stack is running in {state_dir}: start one with `fairmot local up`"
            )
        return cls(state_dir, json.loads((state_dir / STATE_FILE).read_text()))

    @property
    def endpoint_url(self) -> str:
        return str(self.description["endpoint_url"])

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    @property
    def events_log(self) -> Path:
        return self.state_dir / "events.jsonl"

    def environment(self) -> dict[str, str]:
        """What a shell needs for boto3 and the AWS CLI to reach this stack."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **TEST_CREDENTIALS}

    def client(self, service: str) -> Any:
        import boto3

        session: Any = boto3.Session(
            region_name=TEST_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        return session.client(service, endpoint_url=self.endpoint_url)

    def results_queue_url(self) -> str | None:
        for name, value in (self.description.get("outputs") or {}).items():
            if name.lower().startswith("results") and name.endswith("QueueUrl"):
                return str(value)
        return None

    def function_name(self, name: str) -> str:
        """A function's physical name from its logical id (or its physical name as given)."""
        functions: dict[str, str] = self.description.get("functions") or {}
        if name in functions:
            return functions[name]
        if name in functions.values():
            return name
        raise KeyError(f"no function {name!r} in the stack; choose from {', '.join(functions)}")


# ---- status ---------------------------------------------------------------------------------


def view(stack: RunningStack) -> ConsoleSource:
    """The console's reader over this stack: executions, jobs, events, videos."""
    from fairmot.console.source import ConsoleSource

    buckets = list((stack.description.get("buckets") or {}).values())
    return ConsoleSource(
        client=stack.client,
        state_machines=dict(stack.description.get("state_machines") or {}),
        bucket=buckets[0] if len(buckets) == 1 else None,
        queue_url=stack.results_queue_url(),
        work_dir=stack.work_dir,
        events_log=stack.events_log,
    )


def _clock(iso: str | None) -> str:
    return iso[11:19] if iso else "-"


def status_lines(stack: RunningStack) -> list[str]:
    """`fairmot local status`: executions with their current state, jobs, endpoints."""
    source = view(stack)
    lines = ["executions:"]
    for e in source.executions():
        state = (source.execution(e["arn"])["visited"] or ["-"])[-1]
        lines.append(
            f"  {e['machine']:<28} {e['status']:<10} {_clock(e['start'])}-{_clock(e['stop'])}"
            f"  {state:<24} {e['name']}"
        )
    lines.append("jobs:")
    lines += [f"  {j['kind']:<10} {j['status']:<11} {j['name']}" for j in source.jobs()]
    lines.append("endpoints:")
    answer = stack.client("sagemaker").list_endpoints()
    lines += [f"  {e['EndpointStatus']:<11} {e['EndpointName']}" for e in answer["Endpoints"]]
    return lines


def wait_until_idle(stack: RunningStack, timeout_s: float, poll_s: float = 1.0) -> list[str]:
    """Wait until no execution runs and no job is active; return the failed executions' names."""
    source = view(stack)
    deadline = time.monotonic() + timeout_s
    while True:
        found = source.executions()
        busy = any(e["status"] == "RUNNING" for e in found) or any(
            j["status"] in ACTIVE_JOB for j in source.jobs()
        )
        if not busy:
            return [e["name"] for e in found if e["status"] != "SUCCEEDED"]
        if time.monotonic() > deadline:
            raise TimeoutError(f"the stack was still busy after {timeout_s:.0f}s")
        time.sleep(poll_s)


# ---- logs -----------------------------------------------------------------------------------


def job_log(stack: RunningStack, name: str) -> Path | None:
    """A job's log (training, processing, or an endpoint's model server)."""
    for kind in ("training", "processing"):
        log = stack.work_dir / kind / name / "log.txt"
        if log.is_file():
            return log
    served = sorted((stack.work_dir / "endpoints").glob(f"{name}-*/serve.log"))
    return served[-1] if served else None


def execution_lines(stack: RunningStack, name_or_arn: str) -> list[str] | None:
    """An execution's history, one line per event (state names, errors and causes)."""
    sfn = stack.client("stepfunctions")
    arn = next(
        (e["arn"] for e in view(stack).executions() if name_or_arn in (e["name"], e["arn"])),
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


def invoke(stack: RunningStack, function: str, event: Any) -> tuple[Any, str | None]:
    """Invoke a deployed function on an event: (payload, function error or None)."""
    answer = stack.client("lambda").invoke(
        FunctionName=stack.function_name(function), Payload=json.dumps(event).encode()
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


def upload(stack: RunningStack, source: Path, destination: str, fps: float = 30.0) -> str:
    """Copy a file (or a frames folder, encoded to mp4 on the way) to s3://BUCKET/KEY."""
    bucket, key = s3_parts(destination)
    if not key or key.endswith("/"):
        raise ValueError(f"{destination}: name the object, e.g. s3://BUCKET/videos/clip.mp4")
    if source.is_dir():
        if Path(key).suffix.lower() not in VIDEO_SUFFIXES:
            raise ValueError(f"{destination}: a frames folder uploads as a video (.mp4 key)")
        stack.work_dir.mkdir(parents=True, exist_ok=True)
        source = encode_frames(source, stack.work_dir / "upload.mp4", fps)
    elif not source.is_file():
        raise ValueError(f"{source}: no such file or folder")
    stack.client("s3").upload_file(str(source), bucket, key)
    return f"s3://{bucket}/{key}"
