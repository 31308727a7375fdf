"""Track one whole video, as a lazy stream of frames or into its result files.

Four stages on four threads joined by small bounded queues: a reader decodes and letterboxes,
an inference thread runs the network, the calling thread decodes boxes and tracks, a writer
(result files only) draws and encodes. Video codecs, OpenCV, onnxruntime and torch's kernels
release the GIL, so the network never waits for the work around it while a core is free: the
whole pipeline runs at close to the model's own speed (bench/pipeline.py). Any stage's error
stops the others and is raised here, with no final-named output left behind.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairmot.tracking import Track
from fairmot.video import (
    Annotator,
    AtomicOutputs,
    StageTimings,
    TrackBox,
    TruncatedVideoError,
    VideoSource,
    VideoSummary,
    VideoWriter,
    open_clip,
)
from fairmot.video.outputs import ANNOTATED_VIDEO, MotRow, write_results

if TYPE_CHECKING:
    from fairmot.analytics import Scene
    from fairmot.pipeline.frames import FramePipeline, PreparedFrame
    from fairmot.video.draw import SceneOverlay

# Batches that may wait between two stages: enough to absorb jitter, small enough to bound
# memory (a 1080p frame is 6 MB) and keep the stages in step.
QUEUE_BATCHES = 2
# How often a blocked stage checks whether another one failed.
POLL_SECONDS = 0.1


class _Stopped(Exception):
    """Another stage failed: this one gives up quietly."""


@dataclass
class _Stage:
    """A worker thread, the time it spent working and the error that ended it."""

    name: str
    seconds: float = 0.0
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class _End:
    """End-of-stream marker on a queue."""


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            q.put(item, timeout=POLL_SECONDS)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue[Any], stop: threading.Event) -> Any:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            return q.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue


def _start(stage: _Stage, work: Callable[[], None], stop: threading.Event) -> None:
    def body() -> None:
        try:
            work()
        except _Stopped:
            pass
        except BaseException as error:  # handed to the calling thread, which re-raises it
            stage.error = error
            stop.set()

    stage.thread = threading.Thread(target=body, name=f"fairmot-{stage.name}", daemon=True)
    stage.thread.start()


@dataclass(frozen=True)
class TrackedFrame:
    """One frame's result: its number in the source video (from 1), the frame and its tracks."""

    frame_id: int
    image: np.ndarray
    tracks: list[Track]


@dataclass
class StreamState:
    """What a `track_stream` run learnt besides its frames: timings and whether it was cut."""

    timings: StageTimings = field(default_factory=StageTimings)
    truncated: TruncatedVideoError | None = None


def track_stream(
    pipeline: FramePipeline,
    video: VideoSource,
    state: StreamState | None = None,
    *,
    first_frame_id: int = 1,
) -> Generator[TrackedFrame, None, None]:
    """Frames of `video` with their tracks, lazily, one tracker for the whole video.

    A reader thread decodes and letterboxes ahead of the network, an inference thread runs the
    network a batch at a time, and the calling thread decodes the boxes of one batch and tracks
    them while the network already runs the next. A video that stops decoding before its
    declared end ends the stream after its last good frame and is recorded in
    `state.truncated`; any other error is raised. Leaving the loop early stops the threads.
    """
    state = state if state is not None else StreamState()
    batch = pipeline.batch_size
    decoded: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES * batch)
    # One batch of head outputs waiting is enough to keep the network busy.
    inferred: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()
    reader, inference = _Stage("decode"), _Stage("infer")

    def read() -> None:
        frames: Iterator[np.ndarray] = iter(video)
        try:
            while True:
                tick = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                prepared = pipeline.prepare(frame)
                reader.seconds += time.perf_counter() - tick
                _put(decoded, (frame, prepared), stop)
        except TruncatedVideoError as error:
            state.truncated = error
        _put(decoded, _End(), stop)

    def infer() -> None:
        ended = False
        while not ended:
            items: list[tuple[np.ndarray, PreparedFrame]] = []
            while len(items) < batch:
                item = _get(decoded, stop)
                if isinstance(item, _End):
                    ended = True
                    break
                items.append(item)
            if items:
                tick = time.perf_counter()
                outputs = pipeline.forward([prepared for _, prepared in items])
                inference.seconds += time.perf_counter() - tick
                _put(inferred, (items, outputs), stop)
        _put(inferred, _End(), stop)

    tracker = pipeline.new_tracker(video.fps)
    frame_id = first_frame_id
    _start(reader, read, stop)
    _start(inference, infer, stop)
    try:
        while not isinstance(item := _get(inferred, stop), _End):
            items, outputs = item
            tick = time.perf_counter()
            detections = pipeline.detections(outputs, [prepared for _, prepared in items])
            state.timings.infer += time.perf_counter() - tick
            for (frame, prepared), frame_detections in zip(items, detections, strict=True):
                tick = time.perf_counter()
                tracks = pipeline.update(tracker, frame_detections, prepared)
                state.timings.track += time.perf_counter() - tick
                yield TrackedFrame(frame_id, frame, tracks)
                frame_id += 1
    except _Stopped:
        pass
    finally:
        stop.set()
        for stage in (reader, inference):
            if stage.thread is not None:
                stage.thread.join()
        state.timings.decode = reader.seconds
        state.timings.infer += inference.seconds
    for stage in (reader, inference):
        if stage.error is not None:
            raise stage.error


def run_video_job(
    pipeline: FramePipeline,
    source: VideoSource | str | Path,
    out_dir: Path,
    *,
    progress: bool = True,
    write_video: bool = True,
    start: int = 0,
    frames: int | None = None,
    scene: Scene | None = None,
) -> VideoSummary:
    """Track `source` into `out_dir` (see `FramePipeline.track_video`): `track_stream` feeds a
    writer thread that draws and encodes, while the result rows collect here."""
    from tqdm import tqdm

    from fairmot.analytics import ANALYTICS_FILES

    tracked: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES * pipeline.batch_size)
    stop = threading.Event()
    writer_stage = _Stage("encode")
    state = StreamState()
    rows: list[MotRow] = []
    started = time.perf_counter()
    count = 0

    # Opened inside: an input that cannot be opened fails here, earlier results untouched.
    with AtomicOutputs(out_dir, also_replaces=ANALYTICS_FILES) as outputs:
        video = open_clip(source, start, frames)
        writer: VideoWriter | None = None
        if write_video:
            writer = VideoWriter(
                outputs.path(ANNOTATED_VIDEO), fps=video.fps, width=video.width, height=video.height
            )

        def write() -> None:
            annotator = Annotator()
            while not isinstance(item := _get(tracked, stop), _End):
                tick = time.perf_counter()
                frame, boxes, overlay = item
                if writer is not None:
                    writer.write(annotator.draw(frame, boxes, overlay))
                writer_stage.seconds += time.perf_counter() - tick

        analytics = (
            _SceneJob(scene, video.fps, (video.width, video.height)) if scene is not None else None
        )
        bar = tqdm(total=video.frame_count, unit="frame", desc=video.name, disable=not progress)
        finished = False
        if writer is not None:
            _start(writer_stage, write, stop)
        stream = track_stream(pipeline, video, state, first_frame_id=start + 1)
        try:
            for result in stream:
                count += 1
                rows.extend(_mot_rows(result.frame_id, result.tracks))
                overlay = (
                    analytics.update(result.frame_id, result.image, result.tracks)
                    if analytics
                    else None
                )
                if writer is not None:
                    boxes = [_track_box(t) for t in result.tracks]
                    _put(tracked, (result.image, boxes, overlay), stop)
                bar.update(1)
            if writer is not None:
                _put(tracked, _End(), stop)
            finished = True
        except _Stopped:
            pass
        finally:
            stream.close()  # stops the reader at once, whatever ended the loop
            bar.close()
            # Unless every frame went to the writer, stop it: a failure here would otherwise
            # leave it waiting forever.
            if not finished:
                stop.set()
            if writer_stage.thread is not None:
                writer_stage.thread.join()
            if writer is not None:
                writer.close()
        if writer_stage.error is not None:
            raise writer_stage.error
        seconds = time.perf_counter() - started
        state.timings.encode = writer_stage.seconds
        summary = VideoSummary(
            video=video.name,
            frames=count,
            width=video.width,
            height=video.height,
            source_fps=video.fps,
            fps=count / seconds if seconds > 0 else 0.0,
            seconds=seconds,
            tracks=len({row[1] for row in rows}),
            timings=state.timings,
            codec=writer.codec if writer is not None else None,
            model={
                "arch": pipeline.card.arch,
                "input_w": pipeline.card.input_w,
                "input_h": pipeline.card.input_h,
                "conf_thres": pipeline.conf_thres,
                "batch_size": pipeline.batch_size,
                "device": str(pipeline.device),
                "backend": pipeline.network.name,
            },
            truncated=state.truncated is not None,
            first_frame=start + 1,
        )
        extra = None
        if analytics is not None:
            extra = {"analytics": analytics.write(outputs, (video.width, video.height))}
        write_results(outputs, summary, rows, extra=extra)
    return summary


class _SceneJob:
    """A video's analytics: fed frame by frame, drawn live, written beside the tracks."""

    def __init__(self, scene: Scene, fps: float, frame_size: tuple[int, int]) -> None:
        from fairmot.analytics import SceneAnalytics

        self.analytics = SceneAnalytics(scene, fps, frame_size=frame_size)
        self.first_frame: np.ndarray | None = None

    def update(self, frame_id: int, frame: np.ndarray, tracks: list[Track]) -> SceneOverlay:
        if self.first_frame is None:
            self.first_frame = frame.copy()  # the writer draws on `frame`
        result = self.analytics.update(frame_id, ((t.track_id, t.tlwh) for t in tracks))
        return self.analytics.overlay(result.speeds)

    def write(self, outputs: AtomicOutputs, size: tuple[int, int]) -> dict[str, Any]:
        """Stage analytics.json, the CSVs and pictures; the totals for summary.json."""
        from fairmot.analytics import ANALYTICS_JSON, totals, write_analytics

        report = self.analytics.report()
        write_analytics(
            outputs.path(ANALYTICS_JSON).parent,
            report,
            size=size,
            background=self.first_frame,
            overlay=self.analytics.overlay(),
        )
        return totals(report)


def _track_box(track: Track) -> TrackBox:
    x1, y1, x2, y2 = (float(v) for v in track.box)
    return TrackBox(track.track_id, (x1, y1, x2, y2), float(track.score))


def _mot_rows(frame: int, tracks: list[Track]) -> list[MotRow]:
    rows = []
    for track in tracks:
        x, y, w, h = (float(v) for v in track.tlwh)
        rows.append((frame, track.track_id, x, y, w, h, float(track.score), int(track.class_id)))
    return rows
