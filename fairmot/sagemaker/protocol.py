"""The `/invocations` wire protocol: parse a request once, at the edge, into a typed value.

The JSON body is the original SageMaker FairMOT notebook's
`{"frame_id": 0, "frame_data": "<base64 jpg/png>", "frame_w": W, "frame_h": H, "batch_size": 1}`
plus an optional `"stream_id"`, `"frame_rate"` and `"scene"` (frame 0; a scene file's content,
docs/scene.schema.json) and `"close": true`. A list in
`frame_data` carries consecutive frames. A raw `image/jpeg` or `image/png` body carries one frame,
its stream and frame number in `X-Amzn-SageMaker-Custom-Attributes` (`stream_id=abc,frame_id=3`).

Frames stay encoded here: their dimensions come from the JPEG/PNG header, so a frame past the pixel
limit is refused (413) before anything decodes it, and the server decodes each frame later under
its memory budget (`EncodedFrame.decode`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from fairmot.image_header import ImageHeaderError, image_size, is_complete

if TYPE_CHECKING:
    from fairmot.analytics import Scene

# SageMaker real-time endpoints reject payloads over 6 MB, so a larger body is a client error.
MAX_BODY_BYTES = 6 * 1024 * 1024
JSON_TYPES = frozenset({"application/json"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "application/x-image"})
DEFAULT_STREAM = "default"  # what the notebook client (which sends no stream id) streams to
DEFAULT_FRAME_RATE = 30
# Lost tracks are kept a number of frames that scales with the frame rate: an absurd rate would
# keep every track of a stream forever.
MAX_FRAME_RATE = 1000
MAX_STREAM_ID_CHARS = 256  # SageMaker session ids are at most 256 characters
# Every frame of a request stays in memory letterboxed until the request is answered.
MAX_FRAMES_PER_REQUEST = 64
# A frame past this many pixels is refused unread (413): 4096x4096 is well above 4K UHD, and the
# network sees every frame letterboxed to its input size (1088x608 at most) anyway.
MAX_FRAME_PIXELS = 4096 * 4096
# Peak memory of decoding one frame per pixel: OpenCV 5 measured 6.1 bytes (BGR output plus the
# decoder's buffers) for baseline and progressive JPEG and for PNG alike; rounded up.
DECODE_BYTES_PER_PIXEL = 7

SESSION_HEADER = "X-Amzn-SageMaker-Session-Id"
NEW_SESSION_HEADER = "X-Amzn-SageMaker-New-Session-Id"
CLOSED_SESSION_HEADER = "X-Amzn-SageMaker-Closed-Session-Id"
CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
NEW_SESSION = "NEW_SESSION"


class Headers(Protocol):
    """Case-insensitive header lookup (http.server's message object, or a dict in tests)."""

    def get(self, name: str, default: None = None) -> str | None: ...


class RequestError(Exception):
    """A client error: `status` is the HTTP code, the message says what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class EncodedFrame:
    """One frame as sent: JPEG/PNG bytes and the dimensions its header declares."""

    data: bytes
    width: int
    height: int
    where: str  # names the frame in errors: "frame_data[2]", "body"

    @property
    def decode_bytes(self) -> int:
        """Memory that decoding this frame takes at its peak."""
        return self.width * self.height * DECODE_BYTES_PER_PIXEL

    def decode(self) -> np.ndarray:
        """BGR uint8 pixels, or a 400 that names the frame."""
        image = cv2.imdecode(np.frombuffer(self.data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise RequestError(400, f"{self.where}: not a decodable JPEG or PNG image")
        if image.shape[:2] != (self.height, self.width):
            raise RequestError(
                400,
                f"{self.where}: decodes to {image.shape[1]}x{image.shape[0]} but its header "
                f"says {self.width}x{self.height}",
            )
        return image


@dataclass(frozen=True)
class FrameRequest:
    """One validated `/invocations` call."""

    stream_id: str | None  # None: the server picks (new session) or uses the default stream
    new_session: bool
    frame_id: int
    frames: tuple[EncodedFrame, ...]  # all the same size, within the pixel limit
    frame_w: int | None
    frame_h: int | None
    frame_rate: int
    close: bool
    scene: Scene | None = None  # frame 0's analytics scene, checked here
    tracker: str | None = None  # frame 0's tracker name (None: the endpoint's default)


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_custom_attributes(value: str | None) -> dict[str, str]:
    """`stream_id=abc,frame_id=3` -> {"stream_id": "abc", "frame_id": "3"}."""
    attributes: dict[str, str] = {}
    for part in (value or "").replace(";", ",").split(","):
        key, sep, val = part.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = val.strip()
    return attributes


def encoded_frame(data: bytes, where: str, max_pixels: int) -> EncodedFrame:
    """Check a frame from its header alone: a whole JPEG/PNG (400), within `max_pixels` (413)."""
    try:
        width, height = image_size(data)
    except ImageHeaderError as error:
        raise RequestError(400, f"{where}: {error}") from None
    if width * height > max_pixels:
        raise RequestError(
            413,
            f"{where} is {width}x{height} ({width * height / 1e6:.1f} megapixels); this endpoint "
            f"decodes at most {max_pixels / 1e6:.1f} megapixels a frame: send smaller frames",
        )
    if not is_complete(data):
        raise RequestError(400, f"{where}: the image is truncated (no end marker)")
    return EncodedFrame(data, width, height, where)


def _int_field(
    body: Mapping[str, Any], name: str, *, minimum: int, maximum: int | None = None
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise RequestError(400, f"'{name}' must be an integer {bound}, got {value!r}")
    return value


def _stream_id(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_STREAM_ID_CHARS:
        raise RequestError(400, f"{where} must be a non-empty string of at most 256 characters")
    return value


def _session(headers: Headers) -> tuple[str | None, bool]:
    session = headers.get(SESSION_HEADER)
    if session is None:
        return None, False
    if session == NEW_SESSION:
        return None, True
    return _stream_id(session, SESSION_HEADER), False


def _merge_stream(session_id: str | None, given: str | None) -> str | None:
    if session_id is not None and given is not None and given != session_id:
        raise RequestError(400, f"stream_id {given!r} differs from the session id {session_id!r}")
    return session_id or given


def _check_sizes(frames: Sequence[EncodedFrame], frame_w: int | None, frame_h: int | None) -> None:
    w, h = frames[0].width, frames[0].height
    for index, frame in enumerate(frames):
        if (frame.width, frame.height) != (w, h):
            raise RequestError(
                400,
                f"frame {index} is {frame.width}x{frame.height}, frame 0 of the request is {w}x{h}",
            )
    if (frame_w is not None and frame_w != w) or (frame_h is not None and frame_h != h):
        raise RequestError(400, f"frame_w/frame_h say {frame_w}x{frame_h} but the image is {w}x{h}")


def parse_json_request(
    body: bytes, headers: Headers, max_pixels: int = MAX_FRAME_PIXELS
) -> FrameRequest:
    """Validate a notebook-protocol JSON body."""
    try:
        document = json.loads(body)
    except ValueError as error:  # bad UTF-8, bad syntax, an integer past Python's digit limit
        raise RequestError(400, f"body is not valid JSON: {error}") from None
    except RecursionError:  # deeply nested arrays or objects exhaust the parser's stack
        raise RequestError(400, "body is not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise RequestError(400, "body must be a JSON object")
    session_id, new_session = _session(headers)
    stream_id = _merge_stream(session_id, _stream_id(document.get("stream_id"), "'stream_id'"))
    close = document.get("close", False) is True
    if close:
        return FrameRequest(stream_id, new_session, 0, (), None, None, DEFAULT_FRAME_RATE, True)
    frame_id = _int_field(document, "frame_id", minimum=0)
    if frame_id is None:
        raise RequestError(400, "missing field 'frame_id' (0 starts a stream)")
    data = document.get("frame_data")
    if isinstance(data, str):
        encoded = [data]
    elif isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        encoded = list(data)
    else:
        raise RequestError(400, "'frame_data' must be a base64 string or a non-empty list of them")
    if len(encoded) > MAX_FRAMES_PER_REQUEST:
        raise RequestError(
            400, f"frame_data has {len(encoded)} frames; send at most {MAX_FRAMES_PER_REQUEST}"
        )
    batch_size = _int_field(document, "batch_size", minimum=1)
    if batch_size is not None and batch_size != len(encoded):
        raise RequestError(
            400, f"batch_size is {batch_size} but frame_data has {len(encoded)} frames"
        )
    frame_w = _int_field(document, "frame_w", minimum=1)
    frame_h = _int_field(document, "frame_h", minimum=1)
    frame_rate = (
        _int_field(document, "frame_rate", minimum=1, maximum=MAX_FRAME_RATE) or DEFAULT_FRAME_RATE
    )
    frames = []
    for index, item in enumerate(encoded):
        try:
            raw = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(400, f"frame_data[{index}] is not valid base64") from None
        frames.append(encoded_frame(raw, f"frame_data[{index}]", max_pixels))
    _check_sizes(frames, frame_w, frame_h)
    scene = _scene(document.get("scene"), frame_id)
    tracker = _tracker(document.get("tracker"), frame_id)
    return FrameRequest(
        stream_id,
        new_session,
        frame_id,
        tuple(frames),
        frame_w,
        frame_h,
        frame_rate,
        False,
        scene,
        tracker,
    )


def _tracker(value: object, frame_id: int) -> str | None:
    """A stream's tracker, named with its frame 0 (it holds for the whole stream). Names only
    (fairmot/tracking/configs/): a client does not get to make the server read a file."""
    if value is None:
        return None
    if frame_id != 0:
        raise RequestError(400, "'tracker' is given with frame_id 0 and holds for the stream")
    from fairmot.tracking import tracker_names

    if value not in tracker_names():
        raise RequestError(
            400, f"'tracker' must be one of {', '.join(tracker_names())}, got {value!r}"
        )
    return str(value)


def _scene(value: object, frame_id: int) -> Scene | None:
    """A stream's scene, given with its frame 0 (it holds for the whole stream)."""
    if value is None:
        return None
    if frame_id != 0:
        raise RequestError(400, "'scene' is given with frame_id 0 and holds for the stream")
    from fairmot.analytics import SceneError, parse_scene

    try:
        return parse_scene(value, source="'scene'")
    except SceneError as error:
        raise RequestError(400, str(error)) from None


def parse_image_request(
    body: bytes, headers: Headers, max_pixels: int = MAX_FRAME_PIXELS
) -> FrameRequest:
    """Validate a raw image body; stream and frame number come from the custom attributes."""
    attributes = parse_custom_attributes(headers.get(CUSTOM_ATTRIBUTES_HEADER))
    session_id, new_session = _session(headers)
    stream_id = _merge_stream(session_id, _stream_id(attributes.get("stream_id"), "stream_id"))
    try:
        frame_id = int(attributes.get("frame_id", "0"))
        frame_rate = int(attributes.get("frame_rate", str(DEFAULT_FRAME_RATE)))
    except ValueError:
        raise RequestError(400, "frame_id and frame_rate attributes must be integers") from None
    if frame_id < 0 or not 1 <= frame_rate <= MAX_FRAME_RATE:
        raise RequestError(400, f"frame_id must be >= 0 and frame_rate in 1..{MAX_FRAME_RATE}")
    frame = encoded_frame(body, "body", max_pixels)
    return FrameRequest(stream_id, new_session, frame_id, (frame,), None, None, frame_rate, False)


def parse_request(
    content_type: str | None, body: bytes, headers: Headers, max_pixels: int = MAX_FRAME_PIXELS
) -> FrameRequest:
    """Dispatch on the content type: JSON or a raw image; anything else is a 415."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        return parse_json_request(body, headers, max_pixels)
    if kind in IMAGE_TYPES:
        return parse_image_request(body, headers, max_pixels)
    raise RequestError(
        415,
        f"content type {content_type!r} is not supported: send application/json "
        "(the notebook protocol) or image/jpeg / image/png",
    )
