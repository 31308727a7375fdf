"""The `serve` entry point: SageMaker's hosting contract, HTTP on port 8080.

`GET /ping` answers 200 once the model from SM_MODEL_DIR is loaded (503 before);
`POST /invocations` tracks frames of one stream (see `protocol` for the wire format). One model
serves every stream through a single inference thread that batches frames across streams; each
stream has its own tracker (`streams`), and SageMaker stateful sessions pin a stream to this
instance: the session id is the stream id.

Settings (environment): SAGEMAKER_BIND_TO_PORT (8080), FAIRMOT_BIND_HOST (0.0.0.0),
FAIRMOT_MAX_STREAMS (256), FAIRMOT_STREAM_IDLE_S (600), FAIRMOT_MAX_BATCH (8 frames per forward
pass), FAIRMOT_DEVICE (auto | cpu | cuda), FAIRMOT_ACCESS_LOG (1 to log every request),
FAIRMOT_SOCKET_TIMEOUT_S (75: a connection silent this long mid-request or idle is closed).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from fairmot.sagemaker.batching import DEFAULT_MAX_BATCH_FRAMES, InferenceWorker
from fairmot.sagemaker.paths import ServingPaths
from fairmot.sagemaker.protocol import (
    CLOSED_SESSION_HEADER,
    DEFAULT_STREAM,
    MAX_BODY_BYTES,
    NEW_SESSION_HEADER,
    FrameRequest,
    RequestError,
    parse_request,
)
from fairmot.sagemaker.streams import (
    DEFAULT_IDLE_SECONDS,
    DEFAULT_MAX_STREAMS,
    Stream,
    StreamLimitError,
    StreamRegistry,
)
from fairmot.video.outputs import track_record

DEFAULT_PORT = 8080  # SageMaker sends requests to port 8080 unless SAGEMAKER_BIND_TO_PORT says else
# SageMaker gives a container 60 s to answer an invocation; waiting longer helps nobody.
INVOCATION_TIMEOUT_S = 60.0
# A client that declares a body and stops sending would hold a handler thread forever; longer
# than the invocation limit so a slow but live upload is never cut.
DEFAULT_SOCKET_TIMEOUT_S = 75.0
MAX_DRAINED_BYTES = 64 * 1024 * 1024  # an oversized body up to this is read and dropped
DRAIN_CHUNK = 1024 * 1024


@dataclass
class Reply:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class TrackingService:
    """The endpoint's logic without HTTP: validated requests in, replies out."""

    def __init__(self, *, max_streams: int, idle_seconds: float, max_batch: int) -> None:
        self.registry = StreamRegistry(max_streams=max_streams, idle_seconds=idle_seconds)
        self.max_batch = max_batch
        self.pipeline: Any = None
        self.worker: InferenceWorker | None = None
        self.ready = threading.Event()

    def load(self, pipeline: Any) -> None:
        # One forward pass before /ping says ready: CUDA context, cuDNN algorithm search and
        # allocator warm-up would otherwise land on the first caller (and its 60 s limit).
        card = pipeline.card
        pipeline.detect([np.zeros((card.input_h, card.input_w, 3), np.uint8)])
        self.pipeline = pipeline
        self.worker = InferenceWorker(pipeline, max_frames=self.max_batch)
        self.ready.set()

    def _expiry(self) -> str:
        expires = datetime.now(UTC) + timedelta(seconds=self.registry.idle_seconds)
        return expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    def handle(self, request: FrameRequest) -> Reply:
        if not self.ready.is_set() or self.worker is None:
            return Reply(503, {"error": "the model is still loading; retry when /ping answers 200"})
        if request.new_session and request.frame_id != 0 and not request.close:
            raise RequestError(400, "a new session starts a stream: send frame_id 0")
        stream_id = request.stream_id or (
            self.registry.new_id() if request.new_session else DEFAULT_STREAM
        )
        headers = {}
        if request.new_session:
            headers[NEW_SESSION_HEADER] = f"{stream_id}; Expires={self._expiry()}"
        if request.close:
            existed = self.registry.close(stream_id)
            return Reply(
                200,
                {"stream_id": stream_id, "closed": existed, "frames": []},
                {CLOSED_SESSION_HEADER: stream_id},
            )
        try:
            with self.registry.checkout(stream_id, create=request.frame_id == 0) as stream:
                if stream is None or not (stream.started or request.frame_id == 0):
                    raise RequestError(
                        404,
                        f"stream {stream_id!r} is unknown (never started, closed or idle too "
                        "long): start it again with frame_id 0",
                    )
                frames = self._track(stream, request)
        except StreamLimitError as error:
            return Reply(503, {"error": str(error)})
        return Reply(200, {"stream_id": stream_id, "frames": frames}, headers)

    def _track(self, stream: Stream, request: FrameRequest) -> list[dict[str, Any]]:
        assert self.worker is not None
        height, width = request.frames[0].shape[:2]
        if request.frame_id == 0:
            tracker, next_frame = self.pipeline.new_tracker(frame_rate=request.frame_rate), 0
            analytics = new_analytics(request)
        else:
            if request.frame_id < stream.next_frame:
                raise RequestError(
                    409,
                    f"frame {request.frame_id} of stream {stream.stream_id!r} was already "
                    f"tracked; the next frame is {stream.next_frame} (frame_id 0 restarts)",
                )
            if (width, height) != (stream.width, stream.height):
                raise RequestError(
                    400,
                    f"frame is {width}x{height} but stream {stream.stream_id!r} is "
                    f"{stream.width}x{stream.height} (set by its frame 0)",
                )
            tracker, next_frame = stream.tracker, stream.next_frame
            analytics = stream.analytics
        prepared = [self.pipeline.prepare(frame) for frame in request.frames]
        future = self.worker.submit(tracker, prepared)
        try:
            per_frame = future.result(timeout=INVOCATION_TIMEOUT_S)
        except FutureTimeout:
            if future.cancel():  # still queued: the tracker is untouched, the stream unchanged
                raise RequestError(503, "inference timed out; the endpoint is overloaded") from None
            # Already running: the tracker is advancing, so wait and keep the stream in step.
            per_frame = future.result()
        # Commit the stream's state only after the frames were tracked.
        stream.tracker, stream.width, stream.height = tracker, width, height
        stream.next_frame = max(next_frame, request.frame_id + len(request.frames))
        stream.analytics = analytics
        answers = []
        for i, tracks in enumerate(per_frame):
            frame_id = request.frame_id + i
            answer: dict[str, Any] = {
                "frame_id": frame_id,
                "tracks": [track_record(t.track_id, t.tlwh, t.score) for t in tracks],
            }
            if analytics is not None:
                # The frame's line events, zone entries/exits and current speeds.
                update = analytics.update(frame_id, ((t.track_id, t.tlwh) for t in tracks))
                answer["analytics"] = update.to_json()
            answers.append(answer)
        return answers


def new_analytics(request: FrameRequest) -> Any:
    """A stream's analytics from its frame 0's scene, or None without one."""
    if request.scene is None:
        return None
    from fairmot.analytics import SceneAnalytics

    return SceneAnalytics(request.scene, request.frame_rate)


class InvocationHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as SageMaker's front end talks to containers."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the headers (~40 ms on Linux) on every keep-alive response.
    disable_nagle_algorithm = True
    server: ServingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, *, close: bool = False) -> None:
        self._send(Reply(status, {"error": message}), close=close)

    def do_GET(self) -> None:
        if self.path == "/ping":
            ready = self.server.service.ready.is_set()
            self._send(Reply(200 if ready else 503, {"status": "ok" if ready else "loading"}))
        elif self.path == "/stats":  # diagnostics: where the time goes (bench/endpoint.py)
            worker = self.server.service.worker
            stats = asdict(worker.stats) if worker is not None else {}
            self._send(Reply(200, {**stats, "streams": len(self.server.service.registry)}))
        elif self.path == "/execution-parameters":  # asked by batch transform
            self._send(
                Reply(
                    200,
                    {
                        "MaxConcurrentTransforms": 1,
                        "BatchStrategy": "SINGLE_RECORD",
                        "MaxPayloadInMB": MAX_BODY_BYTES // (1024 * 1024),
                    },
                )
            )
        else:
            self._error(404, f"no such path {self.path}: use GET /ping or POST /invocations")

    def do_POST(self) -> None:
        if self.path != "/invocations":
            self._error(404, f"no such path {self.path}: use POST /invocations")
            return
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self._error(411, "a Content-Length header is required", close=True)
            return
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            message = (
                f"body of {length} bytes exceeds SageMaker's 6 MB payload limit; "
                "send fewer frames per request or smaller images"
            )
            # Read and drop a moderately large body so the client sees the answer and the
            # connection stays usable; a huge one is not worth reading: close instead.
            drain = length <= MAX_DRAINED_BYTES
            remaining = length if drain else 0
            while remaining > 0:
                chunk = self.rfile.read(min(DRAIN_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            self._error(413, message, close=not drain)
            return
        body = self.rfile.read(length)
        try:
            request = parse_request(self.headers.get("Content-Type"), body, self.headers)
            reply = self.server.service.handle(request)
        except RequestError as error:
            reply = Reply(error.status, {"error": error.message})
        except Exception as error:  # a bug or a model failure: this request fails, the server lives
            reply = Reply(500, {"error": f"{type(error).__name__}: {error}"})
        self._send(reply)


class ServingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], service: TrackingService, access_log: bool
    ) -> None:
        super().__init__(address, InvocationHandler)
        self.service = service
        self.access_log = access_log


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; exit non-zero if the model cannot be loaded."""
    del argv  # SageMaker runs `serve` with no arguments
    from fairmot.sagemaker.artifact import load_pipeline

    max_batch = int(_env_number("FAIRMOT_MAX_BATCH", DEFAULT_MAX_BATCH_FRAMES))
    service = TrackingService(
        max_streams=int(_env_number("FAIRMOT_MAX_STREAMS", DEFAULT_MAX_STREAMS)),
        idle_seconds=_env_number("FAIRMOT_STREAM_IDLE_S", DEFAULT_IDLE_SECONDS),
        max_batch=max_batch,
    )
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or DEFAULT_PORT)
    host = os.environ.get("FAIRMOT_BIND_HOST", "0.0.0.0")
    server = ServingHTTPServer((host, port), service, os.environ.get("FAIRMOT_ACCESS_LOG") == "1")
    # StreamRequestHandler applies this to every connection's socket; http.server turns the
    # timeout into a closed connection, leaving other requests and streams alone.
    InvocationHandler.timeout = _env_number("FAIRMOT_SOCKET_TIMEOUT_S", DEFAULT_SOCKET_TIMEOUT_S)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    print(f"serve: listening on {host}:{port}; loading the model", flush=True)
    model_dir = ServingPaths.from_env().model_dir
    try:
        service.load(load_pipeline(model_dir, batch_size=max_batch))
    except Exception as error:
        print(
            f"serve: cannot load the model from {model_dir}: {error}", file=sys.stderr, flush=True
        )
        server.shutdown()
        return 1
    print(f"serve: model loaded from {model_dir}; ready", flush=True)
    stop.wait()
    server.shutdown()
    if service.worker is not None:
        service.worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
