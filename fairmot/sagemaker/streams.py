"""Per-stream tracker state for the endpoint: many concurrent videos, bounded and expiring.

One model is shared by every stream; each stream owns a tracker, the next frame it expects and the
frame size fixed by its frame 0. A stream is checked out for the length of one request: its lock
keeps that stream's frames in order, and a checked-out stream is never evicted.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# A stream that sent nothing for this long is dropped; SageMaker sessions are told the same expiry.
DEFAULT_IDLE_SECONDS = 600.0
# Each tracker holds tracks and embeddings (a few hundred KB at most); this bounds memory.
DEFAULT_MAX_STREAMS = 256


class StreamLimitError(Exception):
    """Every stream slot is in use by a request right now."""


@dataclass
class Stream:
    """State of one video being tracked."""

    stream_id: str
    tracker: Any = None  # a fairmot.tracking.ClassPools (and its camera state) once frame 0 arrived
    analytics: Any = None  # a fairmot.analytics.SceneAnalytics when frame 0 gave a scene
    next_frame: int = 0  # frame ids below this were already tracked
    width: int = 0
    height: int = 0
    last_seen: float = 0.0
    active: int = 0  # requests holding it (guarded by the registry lock)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def started(self) -> bool:
        return self.tracker is not None


class StreamRegistry:
    """Streams by id, with idle expiry and a cap (the least recently used idle one goes first)."""

    def __init__(
        self,
        *,
        max_streams: int = DEFAULT_MAX_STREAMS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_streams = max_streams
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._streams: dict[str, Stream] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def __contains__(self, stream_id: str) -> bool:
        with self._lock:
            return stream_id in self._streams

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    @contextmanager
    def checkout(self, stream_id: str, *, create: bool) -> Iterator[Stream | None]:
        """Hold `stream_id` (locked) for one request; None if unknown and `create` is false."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            stream = self._streams.get(stream_id)
            if stream is None and create:
                self._make_room()
                stream = self._streams[stream_id] = Stream(stream_id)
            if stream is not None:
                stream.active += 1
                stream.last_seen = now
        if stream is None:
            yield None
            return
        try:
            with stream.lock:
                yield stream
        finally:
            with self._lock:
                stream.active -= 1
                stream.last_seen = self._clock()

    def close(self, stream_id: str) -> bool:
        """Forget a stream; True if it existed."""
        with self._lock:
            return self._streams.pop(stream_id, None) is not None

    def _expire(self, now: float) -> None:
        stale = [
            key
            for key, stream in self._streams.items()
            if stream.active == 0 and now - stream.last_seen > self.idle_seconds
        ]
        for key in stale:
            del self._streams[key]

    def _make_room(self) -> None:
        if len(self._streams) < self.max_streams:
            return
        idle = [stream for stream in self._streams.values() if stream.active == 0]
        if not idle:
            raise StreamLimitError(
                f"all {self.max_streams} stream slots are busy; retry later or close a stream"
            )
        oldest = min(idle, key=lambda stream: stream.last_seen)
        del self._streams[oldest.stream_id]
