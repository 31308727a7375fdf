"""The `serve` entry point: SageMaker's hosting contract, HTTP on port 8080.

`GET /ping` answers 200 once the model from SM_MODEL_DIR is loaded (503 before);
`POST /invocations` tracks frames of one stream (see `protocol` for the wire format). One model
serves every stream through a single inference thread that batches frames across streams; each
stream has its own tracker (`streams`), and SageMaker stateful sessions pin a stream to this
instance: the session id is the stream id.

Settings (environment): SAGEMAKER_BIND_TO_PORT (8080), FAIRMOT_BIND_HOST (0.0.0.0),
FAIRMOT_MAX_STREAMS (256), FAIRMOT_STREAM_IDLE_S (600), FAIRMOT_MAX_BATCH (8 frames per forward
pass), FAIRMOT_DEVICE (auto | cpu | cuda), FAIRMOT_ACCESS_LOG (1 to log every request),
FAIRMOT_SOCKET_TIMEOUT_S (75: an idle keep-alive connection is closed after this long).

Hostile or broken clients are bounded (see `frontend`): FAIRMOT_REQUEST_DEADLINE_S (60: from a
request's first byte to its answer, SageMaker's own invocation limit), FAIRMOT_WORKERS (8 threads
answer requests, however many connections are open), FAIRMOT_MAX_CONNECTIONS (512),
FAIRMOT_BODY_BUDGET_MB (256: request bodies held at once), FAIRMOT_MAX_FRAME_PIXELS (4096x4096: a
larger frame is a 413, refused from its header before decoding), FAIRMOT_DECODE_BUDGET_MB (512:
decoded and letterboxed frames held at once; a request waits for room until its deadline).
Peak memory: that of the warmed-up server (model loaded, full batches run) plus the two budgets
plus 128 KiB per open connection (bench/endpoint.py --load checks it).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import cv2
import numpy as np

from fairmot.sagemaker.batching import DEFAULT_MAX_BATCH_FRAMES, InferenceWorker
from fairmot.sagemaker.budget import BudgetExceededError, BudgetTimeoutError, ByteBudget
from fairmot.sagemaker.frontend import FrontEnd, Limits
from fairmot.sagemaker.paths import ServingPaths
from fairmot.sagemaker.protocol import (
    CLOSED_SESSION_HEADER,
    DEFAULT_STREAM,
    MAX_BODY_BYTES,
    MAX_FRAME_PIXELS,
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
# SageMaker's front end keeps connections open between invocations; longer than the invocation
# limit, so a connection is never closed under a request still on its way.
DEFAULT_SOCKET_TIMEOUT_S = 75.0
# Decoded and letterboxed frames held at once: four of the largest frames decoding together.
DEFAULT_DECODE_BUDGET_BYTES = 512 * 1024 * 1024


@dataclass
class Reply:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class TrackingService:
    """The endpoint's logic without HTTP: validated requests in, replies out."""

    def __init__(
        self,
        *,
        max_streams: int,
        idle_seconds: float,
        max_batch: int,
        max_pixels: int = MAX_FRAME_PIXELS,
        decode_budget_bytes: int = DEFAULT_DECODE_BUDGET_BYTES,
    ) -> None:
        self.registry = StreamRegistry(max_streams=max_streams, idle_seconds=idle_seconds)
        self.max_batch = max_batch
        self.max_pixels = max_pixels
        self.decode_budget = ByteBudget(decode_budget_bytes, "frame decoding")
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

    def handle(self, request: FrameRequest, deadline: float | None = None) -> Reply:
        """Answer one request by `deadline` (time.monotonic; default: the invocation limit)."""
        if deadline is None:
            deadline = time.monotonic() + INVOCATION_TIMEOUT_S
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
                frames = self._track(stream, request, deadline)
        except StreamLimitError as error:
            return Reply(503, {"error": str(error)})
        except BudgetExceededError as error:
            return Reply(413, {"error": f"the request's frames: {error}; send fewer frames"})
        except BudgetTimeoutError as error:
            return Reply(503, {"error": f"{error}; the endpoint is overloaded, retry later"})
        return Reply(200, {"stream_id": stream_id, "frames": frames}, headers)

    def _track(
        self, stream: Stream, request: FrameRequest, deadline: float
    ) -> list[dict[str, Any]]:
        assert self.worker is not None
        width, height = request.frames[0].width, request.frames[0].height
        if request.frame_id == 0:
            tracker = self.pipeline.new_tracker(request.frame_rate, request.tracker)
            next_frame = 0
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
        # Frames decode one at a time; their letterboxed copies live until the batch is done.
        card = self.pipeline.card
        memory = max(frame.decode_bytes for frame in request.frames) + len(request.frames) * (
            card.input_w * card.input_h * 3
        )
        with self.decode_budget.hold(memory, deadline):
            prepared = [self.pipeline.prepare(frame.decode()) for frame in request.frames]
            future = self.worker.submit(tracker, prepared)
            try:
                per_frame = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                if future.cancel():  # still queued: the tracker is untouched, the stream unchanged
                    raise RequestError(
                        503, "inference timed out; the endpoint is overloaded"
                    ) from None
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
                "tracks": [track_record(t.track_id, t.tlwh, t.score, t.class_id) for t in tracks],
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

    first = request.frames[0]
    return SceneAnalytics(request.scene, request.frame_rate, frame_size=(first.width, first.height))


@dataclass
class ServingContext:
    """What every request handler shares."""

    service: TrackingService
    access_log: bool


class InvocationHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as SageMaker's front end talks to containers.

    It runs on one complete request already read by `frontend` (no socket): the request bytes
    are its input file and the response is collected in its output file.
    """

    protocol_version = "HTTP/1.1"
    # A request line without a version would otherwise get an HTTP/0.9 answer: no status line.
    default_request_version = "HTTP/1.0"

    def __init__(
        self, raw: bytes, peer: tuple[str, int], context: ServingContext, deadline: float
    ) -> None:
        # Not BaseRequestHandler.__init__: that reads from a socket and answers at once.
        self.rfile = io.BytesIO(raw)
        self.response = self.wfile = io.BytesIO()
        self.client_address = peer
        self.context = context
        self.deadline = deadline
        self.close_connection = True
        self.requestline = ""
        self.command = ""
        self.request_version = self.protocol_version

    @classmethod
    def respond(
        cls, context: ServingContext, raw: bytes, peer: tuple[str, int], deadline: float
    ) -> tuple[bytes, bool]:
        """The raw response to one raw request, and whether the connection must close."""
        handler = cls(raw, peer, context, deadline)
        handler.handle_one_request()
        return handler.response.getvalue(), handler.close_connection

    @classmethod
    def render_error(cls, context: ServingContext, status: int, message: str) -> bytes:
        """A JSON error that closes the connection (for what `frontend` refuses itself)."""
        handler = cls(b"", ("", 0), context, 0.0)
        handler._error(status, message, close=True)
        return handler.response.getvalue()

    def handle_expect_100(self) -> bool:
        return True  # `frontend` sent 100 Continue before it read the body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a garbled request line, an unknown method) as JSON 4xx."""
        del explain
        # An unknown method or HTTP version is the client's error, not the server's (5xx).
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command!r}: use GET/POST"
        elif code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
            code, message = HTTPStatus.BAD_REQUEST, "unsupported HTTP version: use HTTP/1.1"
        self._error(int(code), message or HTTPStatus(code).phrase, close=True)

    def log_message(self, format: str, *args: Any) -> None:
        if self.context.access_log:
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
            ready = self.context.service.ready.is_set()
            self._send(Reply(200 if ready else 503, {"status": "ok" if ready else "loading"}))
        elif self.path == "/stats":  # diagnostics: where the time goes (bench/endpoint.py)
            service = self.context.service
            stats = asdict(service.worker.stats) if service.worker is not None else {}
            stats["decode_budget_peak_bytes"] = service.decode_budget.peak
            self._send(Reply(200, {**stats, "streams": len(service.registry)}))
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
        if length_text is None or not (length_text.isascii() and length_text.isdigit()):
            self._error(411, "a Content-Length header is required", close=True)
            return
        # `frontend` answered an oversized body (413) and read exactly this one.
        body = self.rfile.read(int(length_text))
        service = self.context.service
        try:
            if time.monotonic() >= self.deadline:
                raise RequestError(503, "the request waited past its deadline; retry later")
            request = parse_request(
                self.headers.get("Content-Type"), body, self.headers, service.max_pixels
            )
            reply = service.handle(request, self.deadline)
        except RequestError as error:
            reply = Reply(error.status, {"error": error.message})
        except Exception as error:  # a bug or a model failure: this request fails, the server lives
            reply = Reply(500, {"error": f"{type(error).__name__}: {error}"})
        self._send(reply)


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; exit non-zero if the model cannot be loaded."""
    del argv  # SageMaker runs `serve` with no arguments
    from fairmot.sagemaker.artifact import load_pipeline

    max_batch = int(_env_number("FAIRMOT_MAX_BATCH", DEFAULT_MAX_BATCH_FRAMES))
    mib = 1024 * 1024
    service = TrackingService(
        max_streams=int(_env_number("FAIRMOT_MAX_STREAMS", DEFAULT_MAX_STREAMS)),
        idle_seconds=_env_number("FAIRMOT_STREAM_IDLE_S", DEFAULT_IDLE_SECONDS),
        max_batch=max_batch,
        max_pixels=int(_env_number("FAIRMOT_MAX_FRAME_PIXELS", MAX_FRAME_PIXELS)),
        decode_budget_bytes=int(
            _env_number("FAIRMOT_DECODE_BUDGET_MB", DEFAULT_DECODE_BUDGET_BYTES / mib) * mib
        ),
    )
    defaults = Limits()
    limits = Limits(
        workers=int(_env_number("FAIRMOT_WORKERS", defaults.workers)),
        max_connections=int(_env_number("FAIRMOT_MAX_CONNECTIONS", defaults.max_connections)),
        request_deadline_s=_env_number("FAIRMOT_REQUEST_DEADLINE_S", INVOCATION_TIMEOUT_S),
        idle_timeout_s=_env_number("FAIRMOT_SOCKET_TIMEOUT_S", DEFAULT_SOCKET_TIMEOUT_S),
        max_body_bytes=MAX_BODY_BYTES,
        body_budget_bytes=int(
            _env_number("FAIRMOT_BODY_BUDGET_MB", defaults.body_budget_bytes / mib) * mib
        ),
    )
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or DEFAULT_PORT)
    host = os.environ.get("FAIRMOT_BIND_HOST", "0.0.0.0")
    context = ServingContext(service, os.environ.get("FAIRMOT_ACCESS_LOG") == "1")
    server = FrontEnd(
        (host, port),
        lambda raw, peer, deadline: InvocationHandler.respond(context, raw, peer, deadline),
        lambda status, message: InvocationHandler.render_error(context, status, message),
        limits,
    )
    # Corrupt client images are answered 400; OpenCV's warnings about them would flood the log.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print(f"serve: listening on {host}:{port}; loading the model", flush=True)
    model_dir = ServingPaths.from_env().model_dir
    try:
        service.load(load_pipeline(model_dir, batch_size=max_batch))
    except Exception as error:
        print(
            f"serve: cannot load the model from {model_dir}: {error}", file=sys.stderr, flush=True
        )
        server.stop()
        return 1
    print(f"serve: model loaded from {model_dir}; ready", flush=True)
    stop.wait()
    server.stop()
    if service.worker is not None:
        service.worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
