"""What an operator asks of a stack, local or deployed: status, histories, invoke, upload.

Each verb reads through a `ConsoleSource` (fairmot.console.source: boto3 clients, the state
machines, bucket and logs of one stack), so `fairmot local status|logs|invoke|upload` ask the
same of the local stack as they would of a deployed one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fairmot.console.source import ConsoleSource
from fairmot.upload import s3_parts

ACTIVE_JOB = {"InProgress", "Stopping"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv"}


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
    lines.append("endpoints:")
    answer = source.client("sagemaker").list_endpoints()
    lines += [f"  {e['EndpointStatus']:<11} {e['EndpointName']}" for e in answer["Endpoints"]]
    return lines


def wait_until_idle(source: ConsoleSource, timeout_s: float, poll_s: float = 1.0) -> list[str]:
    """Wait until no execution runs and no job is active; return the failed executions' names."""
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
