"""One inference thread that batches frames across streams (micro-batching).

Request threads decode their frames and queue a job; the worker takes every job already waiting
(up to `max_frames` frames), runs one forward pass over all of them, then updates each stream's
tracker in frame order. Batching only what is already queued adds no latency when idle and fills
batches under load, since requests pile up while the model runs. Trackers are touched only here,
and a stream has at most one job queued (its lock is held by the request), so no tracker is ever
updated by two threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from fairmot.tracking.track import reports

# Frames per forward pass: enough to fill a GPU at 1088x608 without blowing its memory.
DEFAULT_MAX_BATCH_FRAMES = 8


class TrackingModel(Protocol):
    """What the worker needs of fairmot.pipeline.FramePipeline."""

    def infer(self, prepared: Sequence[Any]) -> list[Any]: ...

    # `prepared`: the frame itself, for trackers that follow the camera's motion.
    def update(self, tracker: Any, detections: Any, prepared: Any) -> list[Any]: ...


@dataclass
class Job:
    """Frames of one request (letterboxed by the request thread: `FramePipeline.prepare`), for
    one stream's tracker; the result is the reported tracks per frame."""

    tracker: Any
    frames: Sequence[Any]
    future: Future[list[list[Any]]] = field(default_factory=Future)


@dataclass
class WorkerStats:
    """What the worker did, for `GET /stats` and the benchmark."""

    batches: int = 0
    frames: int = 0
    model_seconds: float = 0.0  # forward passes and decoding
    track_seconds: float = 0.0  # tracker updates


class InferenceWorker:
    """Owns the model's forward passes; `submit` is safe from any thread."""

    def __init__(self, model: TrackingModel, *, max_frames: int = DEFAULT_MAX_BATCH_FRAMES) -> None:
        self._model = model
        self._max_frames = max_frames
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)
        self.stats = WorkerStats()
        self._thread.start()

    def submit(self, tracker: Any, frames: Sequence[Any]) -> Future[list[list[Any]]]:
        job = Job(tracker, frames)
        self._queue.put(job)
        return job.future

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _take_batch(self, first: Job) -> tuple[list[Job], bool]:
        jobs: list[Job] = []
        job: Job | None = first
        count = 0
        while job is not None:
            # A job its request gave up on (timed out, cancelled) is dropped unrun: its tracker
            # must not advance behind the stream's back, and under overload it is wasted work.
            if job.future.set_running_or_notify_cancel():
                jobs.append(job)
                count += len(job.frames)
            if count >= self._max_frames:
                break
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
        return jobs, job is None

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            jobs, stopping = self._take_batch(first)
            if not jobs:
                continue
            frames = [frame for job in jobs for frame in job.frames]
            started = time.perf_counter()
            try:
                detections = self._model.infer(frames)
            except Exception as error:  # the model failed: every waiting request gets a 500
                for job in jobs:
                    job.future.set_exception(error)
                continue
            self.stats.model_seconds += time.perf_counter() - started
            self.stats.batches += 1
            self.stats.frames += len(frames)
            offset = 0
            started = time.perf_counter()
            for job in jobs:
                mine = detections[offset : offset + len(job.frames)]
                offset += len(job.frames)
                try:
                    # Each frame's tracks read right after its update: a request of several
                    # frames would otherwise report the last frame's boxes for all of them.
                    job.future.set_result(
                        [
                            reports(self._model.update(job.tracker, d, frame))
                            for d, frame in zip(mine, job.frames, strict=True)
                        ]
                    )
                except Exception as error:  # one stream's tracker failing spares the others
                    job.future.set_exception(error)
            self.stats.track_seconds += time.perf_counter() - started
