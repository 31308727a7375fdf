"""FramePipeline: frames in, detections and tracks out, for one video, many streams or the CLI.

The same object serves a processing job (a whole video, `track_video`), an endpoint (frames of
several streams batched through `detect`, one tracker per stream) and `fairmot track`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from fairmot.decode import DEFAULT_CONF_THRES, decode
from fairmot.letterbox import Letterbox, letterbox
from fairmot.tracking import (
    ClassPools,
    Detections,
    FairByteConfig,
    Track,
    TrackerConfig,
    config_from_mapping,
    create_tracker,
    load_tracker_config,
)
from fairmot.tracking.track import TrackReport, reports
from fairmot.video import VideoSource, open_clip

if TYPE_CHECKING:
    from fairmot.analytics import Scene
    from fairmot.backends import Network
    from fairmot.model import LoadedModel
    from fairmot.pipeline.video_job import TrackedFrame
    from fairmot.video import VideoSummary

# Reference track.py: boxes of 100 px^2 or less are noise, not people.
MIN_BOX_AREA = 100.0
# Reference track.py: a box wider than 1.6 x its height is not a standing person.
MAX_ASPECT_RATIO = 1.6


@dataclass(frozen=True)
class OutputFilter:
    """Which confirmed tracks are reported (the tracker itself keeps all of them)."""

    min_box_area: float = MIN_BOX_AREA
    max_aspect_ratio: float = MAX_ASPECT_RATIO  # width / height

    def keep(self, tlwh: Sequence[float] | np.ndarray) -> bool:
        """Whether a box (x, y, w, h) is reported."""
        _, _, w, h = (float(v) for v in tlwh)
        return w * h > self.min_box_area and h > 0 and w / h <= self.max_aspect_ratio


@dataclass(frozen=True)
class PreparedFrame:
    """A frame letterboxed to the network input (uint8 BGR) and the transform back."""

    image: np.ndarray
    letterbox: Letterbox

    def content(self) -> tuple[np.ndarray, float]:
        """The frame inside the padding (a view) and its scale from the frame's pixels: a small
        copy of the frame for camera-motion estimates, with no resize of its own."""
        box = self.letterbox
        top, left = int(box.pad_y), int(box.pad_x)
        # Symmetric crop: an odd padding remainder leaves one grey row or column, no texture.
        return self.image[top : box.out_h - top, left : box.out_w - left], box.scale


class FramePipeline:
    """A network plus everything around it: letterboxing, batching, decoding, tracking.

    `loaded` is a fairmot.model.LoadedModel (run by torch on `device`, in `channels_last` on
    CPUs by default) or any fairmot.backends.Network (onnxruntime, fp16 torch, ...).
    `tracker_config`: a tracker name, YAML path or config (fairmot.tracking.create_tracker);
    by default the tracker the model's card was validated with, else the default `fairbyte`.
    `conf_thres`: the detection threshold. The reference `fairmot` tracker keeps detections
    above it (default: the card's, else 0.4); for `fairbyte` a given value is the floor of what
    is decoded, and by default it decodes down to BYTE's low band (`low_thres`).
    `batch_size` frames go through the network in one forward pass.
    """

    def __init__(
        self,
        loaded: LoadedModel | Network,
        *,
        device: str | torch.device = "cpu",
        conf_thres: float | None = None,
        batch_size: int = 4,
        output_filter: OutputFilter | None = None,
        tracker_config: str | Path | TrackerConfig | FairByteConfig | None = None,
        channels_last: bool | None = None,
    ) -> None:
        from fairmot.backends import TorchNetwork
        from fairmot.model import LoadedModel

        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.network: Network = (
            TorchNetwork(loaded, device, channels_last=channels_last)
            if isinstance(loaded, LoadedModel)
            else loaded
        )
        self.card = self.network.card
        self.device = self.network.device
        self.batch_size = batch_size
        self.conf_thres = conf_thres if conf_thres is not None else card_conf_thres(self.card)
        self.output_filter = output_filter or OutputFilter()
        self.tracker_config = self._settings(
            tracker_config if tracker_config is not None else card_tracker(self.card)
        )
        if isinstance(self.tracker_config, TrackerConfig) or conf_thres is not None:
            self.decode_thres = self.conf_thres
        else:
            # BYTE's low band lies below the card's threshold: decode down to it.
            self.decode_thres = min(self.conf_thres, self.tracker_config.low_thres)
        self.input_size = (self.card.input_w, self.card.input_h)

    def prepare(self, frame_bgr: np.ndarray) -> PreparedFrame:
        """Letterbox one frame to the network input size (thread-safe: no model involved)."""
        image, box = letterbox(frame_bgr, *self.input_size)
        return PreparedFrame(image, box)

    def forward(self, prepared: Sequence[PreparedFrame]) -> dict[str, torch.Tensor]:
        """The head outputs of prepared frames, in one forward pass."""
        return self.network([p.image for p in prepared])

    def detections(
        self, outputs: dict[str, torch.Tensor], prepared: Sequence[PreparedFrame]
    ) -> list[Detections]:
        """Detections (in each frame's own pixels) from the head outputs of `prepared`."""
        return decode(
            outputs,
            [p.letterbox for p in prepared],
            conf_thres=self.decode_thres,
            down_ratio=self.card.down_ratio,
        )

    def infer(self, prepared: Sequence[PreparedFrame]) -> list[Detections]:
        """Detections of prepared frames, `batch_size` frames per forward pass."""
        results: list[Detections] = []
        for start in range(0, len(prepared), self.batch_size):
            chunk = prepared[start : start + self.batch_size]
            results.extend(self.detections(self.forward(chunk), chunk))
        return results

    def detect(self, frames_bgr: Sequence[np.ndarray]) -> list[Detections]:
        """Detections (boxes in each frame's own pixels) of frames of any sizes and streams."""
        return self.infer([self.prepare(frame) for frame in frames_bgr])

    def _settings(
        self, tracker: str | Path | TrackerConfig | FairByteConfig
    ) -> TrackerConfig | FairByteConfig:
        config = load_tracker_config(tracker)
        # The reference tracker's threshold is the detection threshold.
        if isinstance(config, TrackerConfig):
            return replace(config, conf_thres=self.conf_thres)
        return config

    def new_tracker(self, frame_rate: float = 30, tracker: str | None = None) -> ClassPools:
        """A fresh tracker for one stream at its frame rate: this pipeline's, or the named one
        (a stream's own choice on the endpoint), thresholds from this pipeline."""
        config = self.tracker_config if tracker is None else self._settings(tracker)
        return create_tracker(config, frame_rate=max(round(frame_rate), 1))

    def visible(self, tracks: Iterable[Track]) -> list[Track]:
        """The tracks worth reporting (size and shape filter of the reference)."""
        return [t for t in tracks if self.output_filter.keep(t.tlwh)]

    def update(
        self, tracker: ClassPools, detections: Detections, prepared: PreparedFrame | None = None
    ) -> list[Track]:
        """Advance `tracker` one frame; the reported tracks of that frame. A tracker with
        `camera_motion` on needs the frame (`prepared`) to follow the camera first."""
        if tracker.camera is not None:
            if prepared is None:
                raise ValueError("camera_motion needs each frame: pass the prepared frame")
            tracker.follow_camera(*prepared.content())
        return self.visible(tracker.update(detections))

    def track_frames(
        self, frames_bgr: Sequence[np.ndarray], tracker: ClassPools
    ) -> list[list[TrackReport]]:
        """Consecutive frames of one stream through `tracker`: the reported tracks per frame,
        each read right after its frame's update."""
        prepared = [self.prepare(frame) for frame in frames_bgr]
        return [
            reports(self.update(tracker, d, p))
            for d, p in zip(self.infer(prepared), prepared, strict=True)
        ]

    def track_video(
        self,
        source: VideoSource | str | Path,
        out_dir: str | Path,
        *,
        progress: bool = True,
        write_video: bool = True,
        start: int = 0,
        frames: int | None = None,
        scene: Scene | None = None,
    ) -> VideoSummary:
        """Track a whole video (or `frames` frames from index `start`) into `out_dir`:
        annotated.mp4, tracks.txt, tracks.json, summary.json, all or nothing. Decoding and
        encoding run on their own threads. A truncated video keeps the frames that decoded and
        says `truncated: true`. Frame numbers in the results are the source video's. With a
        `scene`, also analytics.json, its CSVs and pictures, lines and zones drawn on the video
        and the totals in summary.json."""
        from fairmot.pipeline.video_job import run_video_job

        return run_video_job(
            self,
            source,
            Path(out_dir),
            progress=progress,
            write_video=write_video,
            start=start,
            frames=frames,
            scene=scene,
        )

    def stream(
        self, source: VideoSource | str | Path, *, start: int = 0, frames: int | None = None
    ) -> Generator[TrackedFrame, None, None]:
        """The frames of a video with their tracks, lazily (see `track_stream`)."""
        from fairmot.pipeline.video_job import track_stream

        return track_stream(self, open_clip(source, start, frames), first_frame_id=start + 1)


def card_tracker(card: object) -> TrackerConfig | FairByteConfig:
    """The tracker a model card was validated with (its metrics were measured with it), else
    the default tracker (cards written before the tracker was recorded)."""
    recorded = getattr(card, "tracker", None)
    if recorded is None:
        return load_tracker_config()
    return config_from_mapping(recorded, "model card tracker")


def card_conf_thres(card: object) -> float:
    """The detection threshold a model card records from training, else the reference 0.4."""
    hyperparameters = getattr(card, "hyperparameters", {}) or {}
    value = hyperparameters.get("conf_thres")
    try:
        return float(value) if value is not None else DEFAULT_CONF_THRES
    except (TypeError, ValueError):
        return DEFAULT_CONF_THRES
