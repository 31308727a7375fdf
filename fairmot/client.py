"""Stream a video to a tracking endpoint, frame by frame, and write the tracked result.

The wire format is the original SageMaker FairMOT notebook's (base64 JPEG in JSON, frame_w/frame_h
on frame 0) plus a stream id, so one endpoint tracks many videos at once. Two transports:
`SageMakerTransport` (boto3 `invoke_endpoint`, with a stateful session that pins the stream to
one instance when the endpoint supports it) and `HttpTransport` (a local `serve` over HTTP).
The results are the same files a processing job writes: annotated.mp4, tracks.txt, tracks.json,
summary.json (plus request latencies).
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fairmot.sagemaker.protocol import NEW_SESSION, NEW_SESSION_HEADER, SESSION_HEADER

JPEG_QUALITY = 90  # the notebook's frames were JPEG files; 90 keeps detections unchanged
HTTP_TIMEOUT_S = 65.0  # a little over SageMaker's 60 s invocation limit


class EndpointError(RuntimeError):
    """The endpoint answered with an error; `status` is its HTTP status when known."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    """A decoded endpoint answer and the session it opened (if any)."""

    body: dict[str, Any]
    new_session: str | None = None


class Transport(Protocol):
    def invoke(self, body: bytes, session: str | None) -> Answer: ...


def session_id_from_header(value: str | None) -> str | None:
    """`abc; Expires=2026-01-01T00:00:00Z` -> `abc`."""
    if not value:
        return None
    return value.split(";", 1)[0].strip() or None


class HttpTransport:
    """POST /invocations on a local `serve` (or anything speaking the container contract)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/invocations"

    def invoke(self, body: bytes, session: str | None) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if session:
            headers[SESSION_HEADER] = session
        request = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                payload = json.loads(response.read())
                new = session_id_from_header(response.headers.get(NEW_SESSION_HEADER))
        except urllib.error.HTTPError as error:
            raise EndpointError(
                f"{self.url}: {error.code} {error.read().decode(errors='replace')}", error.code
            ) from None
        return Answer(payload, new)


class SageMakerTransport:
    """boto3 sagemaker-runtime `invoke_endpoint` with ContentType application/json."""

    def __init__(
        self, endpoint_name: str, *, region: str | None = None, client: Any = None
    ) -> None:
        import boto3

        self.endpoint_name = endpoint_name
        self._client = client or boto3.client("sagemaker-runtime", region_name=region)

    def invoke(self, body: bytes, session: str | None) -> Answer:
        from botocore.exceptions import BotoCoreError, ClientError

        arguments: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": body,
        }
        if session:
            arguments["SessionId"] = session
        try:
            response = self._client.invoke_endpoint(**arguments)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise EndpointError(f"{self.endpoint_name}: {error}", status) from None
        except BotoCoreError as error:  # no answer at all: connection, timeout, credentials
            raise EndpointError(f"{self.endpoint_name}: {error}") from None
        payload = json.loads(response["Body"].read())
        return Answer(payload, session_id_from_header(response.get("NewSessionId")))


def encode_frame(frame_bgr: np.ndarray) -> str:
    """JPEG then base64, as the notebook sent frames."""
    import cv2

    ok, jpeg = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("cannot JPEG-encode a frame")
    return base64.b64encode(jpeg.tobytes()).decode("ascii")


@dataclass
class StreamSession:
    """One video's conversation with the endpoint: frame numbering, stream and session ids."""

    transport: Transport
    use_session: bool = True
    stream_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    session: str | None = None
    next_frame: int = 0
    latencies: list[float] = field(default_factory=list)

    def send(self, frames: Sequence[np.ndarray], *, frame_rate: float) -> list[dict[str, Any]]:
        """Track consecutive frames; their `{"frame_id", "tracks"}` answers."""
        data: dict[str, Any] = {
            "frame_id": self.next_frame,
            "frame_data": encode_frame(frames[0])
            if len(frames) == 1
            else [encode_frame(f) for f in frames],
            "batch_size": len(frames),
            "stream_id": self.stream_id,
        }
        if self.next_frame == 0:
            data["frame_h"], data["frame_w"] = frames[0].shape[:2]
            data["frame_rate"] = max(1, round(frame_rate))
        session = self.session or (
            NEW_SESSION if self.use_session and self.next_frame == 0 else None
        )
        started = time.perf_counter()
        answer = self.transport.invoke(json.dumps(data).encode(), session)
        self.latencies.append(time.perf_counter() - started)
        if answer.new_session:
            self.session = answer.new_session
        self.stream_id = str(answer.body.get("stream_id", self.stream_id))
        self.next_frame += len(frames)
        result: list[dict[str, Any]] = answer.body["frames"]
        return result

    def close(self) -> None:
        """Free the stream on the endpoint (and end the SageMaker session)."""
        body = json.dumps({"close": True, "stream_id": self.stream_id}).encode()
        self.transport.invoke(body, self.session)


def _batches(frames: Iterator[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def stream_video(
    video: str | Path,
    transport: Transport,
    out_dir: str | Path,
    *,
    batch_size: int = 1,
    use_session: bool = True,
    write_video: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Send every frame of `video`, write annotated.mp4, tracks.txt, tracks.json and summary.json
    into `out_dir` (all or nothing), and return the summary."""
    from tqdm import tqdm

    from fairmot.video import (
        Annotator,
        AtomicOutputs,
        MotRow,
        TrackBox,
        VideoSummary,
        VideoWriter,
        open_video,
        write_results,
    )
    from fairmot.video.outputs import ANNOTATED_VIDEO

    stream = StreamSession(transport, use_session=use_session)
    rows: list[MotRow] = []
    frames = 0
    annotator = Annotator()
    started = time.perf_counter()
    codec = None
    with open_video(video) as source, AtomicOutputs(out_dir) as outputs:
        writer = (
            VideoWriter(
                outputs.path(ANNOTATED_VIDEO),
                fps=source.fps,
                width=source.width,
                height=source.height,
            )
            if write_video
            else None
        )
        bar = tqdm(total=source.frame_count or None, unit="frame", disable=not progress)
        try:
            for batch in _batches(iter(source), batch_size):
                answers = stream.send(batch, frame_rate=source.fps)
                for frame, answer in zip(batch, answers, strict=True):
                    tracks = answer["tracks"]
                    number = int(answer["frame_id"]) + 1  # MOT frames count from 1
                    frames += 1
                    for t in tracks:
                        x, y, w, h = (float(v) for v in t["bbox"])
                        score, class_id = float(t["score"]), int(t.get("class_id", 0))
                        rows.append((number, int(t["track_id"]), x, y, w, h, score, class_id))
                    if writer is not None:
                        boxes = [
                            TrackBox(int(t["track_id"]), (x, y, x + w, y + h), float(t["score"]))
                            for t in tracks
                            for x, y, w, h in [t["bbox"]]
                        ]
                        writer.write(annotator.draw(frame, boxes))
                bar.update(len(batch))
        except BaseException:
            if stream.next_frame:  # best effort: free the stream, keep the original error
                with contextlib.suppress(EndpointError, OSError):
                    stream.close()
            raise
        else:
            if stream.next_frame:
                stream.close()
        finally:
            bar.close()
            if writer is not None:
                writer.close()
                codec = writer.codec
        seconds = time.perf_counter() - started
        summary = VideoSummary(
            video=str(video),
            frames=frames,
            width=source.width,
            height=source.height,
            source_fps=source.fps,
            fps=frames / seconds if seconds > 0 else 0.0,
            seconds=round(seconds, 3),
            tracks=len({row[1] for row in rows}),
            codec=codec,
        )
        latencies = sorted(stream.latencies)
        client = {
            "stream_id": stream.stream_id,
            "session": stream.session is not None,
            "requests": len(latencies),
            "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 2)
            if latencies
            else None,
            "latency_ms_p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2)
            if latencies
            else None,
        }
        write_results(outputs, summary, rows, extra={"client": client})
    return {**summary.to_json(), "client": client}
