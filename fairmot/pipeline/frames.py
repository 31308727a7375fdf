"""FramePipeline: frames in, detections and tracks out, for one video, many streams or the CLI.

The same object serves a processing job (a whole video, `track_video`), an endpoint (frames of
several streams batched through `detect`, one tracker per stream) and `fairmot track`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from fairmot.decode import DEFAULT_CONF_THRES, decode
from fairmot.letterbox import Letterbox, letterbox
from fairmot.tracking import Detections, JDETracker, Track, TrackerConfig

if TYPE_CHECKING:
    from fairmot.analytics import Scene
    from fairmot.model import LoadedModel
    from fairmot.video import VideoSource, VideoSummary

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


class FramePipeline:
    """A loaded model plus everything around it: letterboxing, batching, decoding, tracking.

    `conf_thres` defaults to the one the model was trained with (its card), else 0.4.
    `batch_size` frames go through the network in one forward pass. `channels_last` runs the
    network on NHWC inputs; by default on CPUs, where it measured faster.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        device: str | torch.device = "cpu",
        conf_thres: float | None = None,
        batch_size: int = 4,
        output_filter: OutputFilter | None = None,
        tracker_config: TrackerConfig | None = None,
        channels_last: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.card = loaded.card
        self.device = torch.device(device)
        if channels_last is None:
            # Measured on this CPU: NHWC forward 25-40% faster (lite, dla34_plain). An NHWC
            # input alone gets nearly all of it, so the caller's model (the live network, during
            # training's validation) keeps its memory format.
            channels_last = self.device.type == "cpu"
        self.channels_last = channels_last
        self.model = loaded.model.to(self.device).eval()
        self.batch_size = batch_size
        self.conf_thres = conf_thres if conf_thres is not None else card_conf_thres(self.card)
        self.output_filter = output_filter or OutputFilter()
        self.tracker_config = replace(tracker_config or TrackerConfig(), conf_thres=self.conf_thres)
        self.input_size = (self.card.input_w, self.card.input_h)

    def prepare(self, frame_bgr: np.ndarray) -> PreparedFrame:
        """Letterbox one frame to the network input size (thread-safe: no model involved)."""
        image, box = letterbox(frame_bgr, *self.input_size)
        return PreparedFrame(image, box)

    def network_input(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Letterboxed BGR uint8 images -> (B,3,H,W) float RGB in [0,1] on the device.

        The same values as `fairmot.letterbox.to_network_input`, but the conversion runs in
        torch after the copy to the device: a quarter of the bytes cross to a GPU, and torch's
        vectorised kernels do it in a fraction of numpy's time on a CPU.
        """
        batch = torch.from_numpy(np.stack(images)).to(self.device, non_blocking=True)
        # NHWC permuted to NCHW is already channels_last in memory.
        batch = batch.permute(0, 3, 1, 2).flip(1).float().div_(255.0)
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return batch.contiguous(memory_format=memory_format)

    def infer(self, prepared: Sequence[PreparedFrame]) -> list[Detections]:
        """Detections of prepared frames, `batch_size` frames per forward pass."""
        results: list[Detections] = []
        for start in range(0, len(prepared), self.batch_size):
            chunk = prepared[start : start + self.batch_size]
            with torch.inference_mode():
                outputs = self.model(self.network_input([p.image for p in chunk]))
                results.extend(
                    decode(
                        outputs,
                        [p.letterbox for p in chunk],
                        conf_thres=self.conf_thres,
                        down_ratio=self.card.down_ratio,
                    )
                )
        return results

    def detect(self, frames_bgr: Sequence[np.ndarray]) -> list[Detections]:
        """Detections (boxes in each frame's own pixels) of frames of any sizes and streams."""
        return self.infer([self.prepare(frame) for frame in frames_bgr])

    def new_tracker(self, frame_rate: float = 30) -> JDETracker:
        """A fresh tracker for one stream at its frame rate, thresholds from this pipeline."""
        rate = max(round(frame_rate), 1)
        return JDETracker(replace(self.tracker_config, frame_rate=rate))

    def visible(self, tracks: Iterable[Track]) -> list[Track]:
        """The tracks worth reporting (size and shape filter of the reference)."""
        return [t for t in tracks if self.output_filter.keep(t.tlwh)]

    def update(self, tracker: JDETracker, detections: Detections) -> list[Track]:
        """Advance `tracker` one frame; the reported tracks of that frame."""
        return self.visible(tracker.update(detections))

    def track_frames(
        self, frames_bgr: Sequence[np.ndarray], tracker: JDETracker
    ) -> list[list[Track]]:
        """Consecutive frames of one stream through `tracker`: the reported tracks per frame."""
        return [self.update(tracker, d) for d in self.detect(frames_bgr)]

    def track_video(
        self,
        source: VideoSource | str | Path,
        out_dir: str | Path,
        *,
        progress: bool = True,
        write_video: bool = True,
        scene: Scene | None = None,
    ) -> VideoSummary:
        """Track a whole video into `out_dir`: annotated.mp4, tracks.txt, tracks.json,
        summary.json, all or nothing. Decoding and encoding run on their own threads. With a
        `scene`, also analytics.json, its CSVs and pictures, lines and zones drawn on the video
        and the totals in summary.json."""
        from fairmot.pipeline.video_job import run_video_job

        return run_video_job(
            self, source, Path(out_dir), progress=progress, write_video=write_video, scene=scene
        )


def card_conf_thres(card: object) -> float:
    """The detection threshold a model card records from training, else the reference 0.4."""
    hyperparameters = getattr(card, "hyperparameters", {}) or {}
    value = hyperparameters.get("conf_thres")
    try:
        return float(value) if value is not None else DEFAULT_CONF_THRES
    except (TypeError, ValueError):
        return DEFAULT_CONF_THRES
