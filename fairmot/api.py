"""The Python API: `fairmot.load(path)` and a Model that tracks videos, streams and frames.

The model object is the CLI's pipeline (same backends, batching, threads and outputs), so the
API and `fairmot track` run at the same speed and write the same files.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np

from fairmot.pipeline import FramePipeline
from fairmot.pipeline.results_dir import results_dir
from fairmot.tracking import ClassPools, FairByteConfig, Track, TrackerConfig
from fairmot.video import VideoSource, VideoSummary

# Where `track` writes when no `out` is given (numbered per run: track, track2, ...).
DEFAULT_OUT = Path("runs/track")


@dataclass(frozen=True)
class TrackedObject:
    """One reported track in one frame; `box` is xyxy in the frame's pixels."""

    track_id: int
    box: tuple[float, float, float, float]
    score: float
    class_id: int

    @classmethod
    def from_track(cls, track: Track) -> TrackedObject:
        x1, y1, x2, y2 = (float(v) for v in track.box)
        # Trackers without class support follow one class, the model's first (people).
        class_id = int(getattr(track, "class_id", 0))
        return cls(track.track_id, (x1, y1, x2, y2), float(track.score), class_id)


@dataclass(frozen=True)
class FrameResult:
    """The tracks of one frame; `frame_id` counts from 1 in the source video."""

    frame_id: int
    tracks: list[TrackedObject]


class Model:
    """A loaded model and its pipeline (see `load`). `update` keeps one tracker across calls;
    `track` starts a fresh tracker per video."""

    def __init__(self, pipeline: FramePipeline) -> None:
        self.pipeline = pipeline
        self.card = pipeline.card
        self.backend = pipeline.network.name
        self._tracker: ClassPools | None = None

    def __repr__(self) -> str:
        card = self.card
        return (
            f"Model(arch={card.arch!r}, input={card.input_w}x{card.input_h}, "
            f"backend={self.backend!r}, device={str(self.pipeline.device)!r})"
        )

    @overload
    def track(
        self,
        source: str | Path | VideoSource,
        *,
        stream: Literal[False] = False,
        out: str | Path | None = None,
        exist_ok: bool = False,
        save_video: bool = True,
        start: int = 0,
        frames: int | None = None,
        progress: bool = False,
    ) -> VideoSummary: ...

    @overload
    def track(
        self,
        source: str | Path | VideoSource,
        *,
        stream: Literal[True],
        out: None = None,
        exist_ok: bool = False,
        save_video: bool = True,
        start: int = 0,
        frames: int | None = None,
        progress: bool = False,
    ) -> Iterator[FrameResult]: ...

    def track(
        self,
        source: str | Path | VideoSource,
        *,
        stream: bool = False,
        out: str | Path | None = None,
        exist_ok: bool = False,
        save_video: bool = True,
        start: int = 0,
        frames: int | None = None,
        progress: bool = False,
    ) -> VideoSummary | Iterator[FrameResult]:
        """Track a video file or image folder (or `frames` frames from index `start`).

        Default: write the CLI's outputs (annotated.mp4 unless `save_video=False`, tracks.txt,
        tracks.json, summary.json) into `out` (default runs/track), or into the first free
        `out2`, `out3`... when `out` holds an earlier run and not `exist_ok`; returns the summary.
        With `stream=True`: per-frame results, lazily, and no files. A truncated video keeps
        the frames that decoded: the summary says `truncated`, a stream simply ends there.
        """
        if stream:
            if out is not None:
                raise ValueError("stream=True writes no files: leave out `out`")
            return self._stream(source, start, frames)
        target = results_dir(DEFAULT_OUT if out is None else out, exist_ok=exist_ok)
        return self.pipeline.track_video(
            source, target, progress=progress, write_video=save_video, start=start, frames=frames
        )

    def _stream(
        self, source: str | Path | VideoSource, start: int, frames: int | None
    ) -> Generator[FrameResult, None, None]:
        with_tracks = self.pipeline.stream(source, start=start, frames=frames)
        try:
            for result in with_tracks:
                yield FrameResult(
                    result.frame_id, [TrackedObject.from_track(t) for t in result.tracks]
                )
        finally:
            with_tracks.close()  # a caller leaving the loop early stops the decoder thread

    def update(self, image: np.ndarray, *, frame_rate: float = 30) -> list[TrackedObject]:
        """Track one more frame (BGR uint8, any size) with the tracker kept across calls."""
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            shape = getattr(image, "shape", type(image).__name__)
            raise ValueError(f"update takes one BGR image of shape (H, W, 3), got {shape}")
        if self._tracker is None:
            self._tracker = self.pipeline.new_tracker(frame_rate)
        prepared = self.pipeline.prepare(image)
        (detections,) = self.pipeline.infer([prepared])
        tracks = self.pipeline.update(self._tracker, detections, prepared)
        return [TrackedObject.from_track(t) for t in tracks]

    def reset(self) -> None:
        """Forget the tracks `update` follows: the next frame starts a new stream."""
        self._tracker = None


def load(
    model: str | Path,
    *,
    backend: str = "auto",
    device: str = "auto",
    tracker: str | Path | TrackerConfig | FairByteConfig | None = None,
    conf_thres: float | None = None,
    batch_size: int = 4,
    threads: int | None = None,
) -> Model:
    """Load a model (model dir, model.tar.gz, .pt/.pth or .onnx) for tracking.

    `backend`: auto (onnxruntime for .onnx and, where installed, on CPUs; else torch), torch or
    onnxruntime. `device`: auto (CUDA if present), cpu, cuda, cuda:1... `tracker`: a tracker
    name (fairbyte, fairmot), YAML path or config (default: the one the model card was
    validated with, else fairbyte). `conf_thres`: detection threshold (default: the card's, else
    0.4; fairbyte then also sees BYTE's low band below it, a given value is its floor).
    Raises fairmot.backends.BackendError or fairmot.model.ArtifactError.
    """
    import fairmot
    from fairmot.backends import load_network

    if fairmot.POLICY_TOO_LATE:
        warnings.warn(
            "torch was imported before fairmot, so OpenMP threads busy-wait and tracking can run "
            "several times slower: import fairmot first or set OMP_WAIT_POLICY=PASSIVE",
            RuntimeWarning,
            stacklevel=2,
        )
    network = load_network(model, backend=backend, device=device, threads=threads)
    pipeline = FramePipeline(
        network, conf_thres=conf_thres, batch_size=batch_size, tracker_config=tracker
    )
    return Model(pipeline)
