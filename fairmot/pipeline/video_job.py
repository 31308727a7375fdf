"""Track one whole video into its result files, decoding and encoding beside inference.

Three stages on three threads joined by small bounded queues: a reader decodes and letterboxes,
the calling thread runs the network and the tracker, a writer draws and encodes. Video codecs and
OpenCV release the GIL, so on a GPU the network never waits for I/O, and on a CPU the I/O work
fills the gaps the network leaves. Any stage's error stops the others and is raised here, with
no final-named output left behind.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
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
    VideoSource,
    VideoSummary,
    VideoWriter,
    open_video,
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


def run_video_job(
    pipeline: FramePipeline,
    source: VideoSource | str | Path,
    out_dir: Path,
    *,
    progress: bool = True,
    write_video: bool = True,
    scene: Scene | None = None,
) -> VideoSummary:
    """Track `source` into `out_dir` (see `FramePipeline.track_video`)."""
    from tqdm import tqdm

    from fairmot.analytics import remove_analytics

    batch = pipeline.batch_size
    decoded: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES * batch)
    tracked: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES * batch)
    stop = threading.Event()
    reader, writer_stage = _Stage("decode"), _Stage("encode")
    timings = StageTimings()
    rows: list[MotRow] = []
    started = time.perf_counter()

    def read() -> None:
        frames: Iterator[np.ndarray] = iter(video)
        while True:
            tick = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            prepared = pipeline.prepare(frame)
            reader.seconds += time.perf_counter() - tick
            _put(decoded, (frame, prepared), stop)
        _put(decoded, _End(), stop)

    # Opened inside: an input that cannot be opened also clears an earlier run's results.
    with AtomicOutputs(out_dir) as outputs:
        remove_analytics(out_dir)  # like AtomicOutputs' own files: no stale results
        video = source if isinstance(source, VideoSource) else open_video(source)
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

        tracker = pipeline.new_tracker(video.fps)
        analytics = _SceneJob(scene, video.fps) if scene is not None else None
        frame_number = 0
        bar = tqdm(total=video.frame_count, unit="frame", desc=video.name, disable=not progress)
        ended = finished = False
        _start(reader, read, stop)
        _start(writer_stage, write, stop)
        try:
            while not ended:
                items: list[tuple[np.ndarray, PreparedFrame]] = []
                while len(items) < batch:
                    item = _get(decoded, stop)
                    if isinstance(item, _End):
                        ended = True
                        break
                    items.append(item)
                if not items:
                    break
                tick = time.perf_counter()
                detections = pipeline.infer([prepared for _, prepared in items])
                timings.infer += time.perf_counter() - tick
                for (frame, _), frame_detections in zip(items, detections, strict=True):
                    tick = time.perf_counter()
                    tracks = pipeline.update(tracker, frame_detections)
                    timings.track += time.perf_counter() - tick
                    frame_number += 1
                    rows.extend(_mot_rows(frame_number, tracks))
                    overlay = analytics.update(frame_number, frame, tracks) if analytics else None
                    _put(tracked, (frame, [_track_box(t) for t in tracks], overlay), stop)
                bar.update(len(items))
            _put(tracked, _End(), stop)
            finished = True
        except _Stopped:
            pass
        finally:
            bar.close()
            # Unless every frame went to the writer, stop both stages: a failure here after the
            # reader's last frame would otherwise leave the writer waiting forever.
            if not finished:
                stop.set()
            for stage in (reader, writer_stage):
                if stage.thread is not None:
                    stage.thread.join()
            if writer is not None:
                writer.close()
        for stage in (reader, writer_stage):
            if stage.error is not None:
                raise stage.error
        seconds = time.perf_counter() - started
        timings.decode, timings.encode = reader.seconds, writer_stage.seconds
        summary = VideoSummary(
            video=video.name,
            frames=frame_number,
            width=video.width,
            height=video.height,
            source_fps=video.fps,
            fps=frame_number / seconds if seconds > 0 else 0.0,
            seconds=seconds,
            tracks=len({row[1] for row in rows}),
            timings=timings,
            codec=writer.codec if writer is not None else None,
            model={
                "arch": pipeline.card.arch,
                "input_w": pipeline.card.input_w,
                "input_h": pipeline.card.input_h,
                "conf_thres": pipeline.conf_thres,
                "batch_size": batch,
                "device": str(pipeline.device),
            },
        )
        extra = None
        if analytics is not None:
            extra = {"analytics": analytics.write(outputs, (video.width, video.height))}
        write_results(outputs, summary, rows, extra=extra)
    return summary


class _SceneJob:
    """A video's analytics: fed frame by frame, drawn live, written beside the tracks."""

    def __init__(self, scene: Scene, fps: float) -> None:
        from fairmot.analytics import SceneAnalytics

        self.analytics = SceneAnalytics(scene, fps)
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
        rows.append((frame, track.track_id, x, y, w, h, float(track.score)))
    return rows
