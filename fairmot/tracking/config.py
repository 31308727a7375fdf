"""Tracker settings: every threshold of the JDE/FairMOT association, with the reference defaults."""

from __future__ import annotations

from dataclasses import dataclass

# Reference frame rate the track buffer is expressed in (FairMOT scales it by fps / 30).
BUFFER_REFERENCE_FPS = 30.0
# 95% quantile of the chi-square distribution with 4 degrees of freedom: the Mahalanobis gate
# on (cx, cy, aspect, h) used by the reference fuse_motion.
CHI2_95_4DOF = 9.4877


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of `JDETracker`; defaults are those of the FairMOT reference (src/lib/opts.py,
    src/lib/tracker/multitracker.py)."""

    frame_rate: float = 30
    # Detections scoring at or below this are ignored; those above may start new tracks.
    conf_thres: float = 0.4
    # Frames (at 30 fps) a lost track is kept for re-identification.
    track_buffer: int = 30
    # Stage 1: fused embedding/motion cost threshold.
    embedding_thres: float = 0.4
    # Stage 2: IoU distance threshold for tracked tracks left over by stage 1.
    iou_thres: float = 0.5
    # Stage 3: IoU distance threshold for unconfirmed (one-hit) tracks.
    unconfirmed_iou_thres: float = 0.7
    # Tracked and lost tracks closer than this IoU distance are duplicates.
    duplicate_iou_thres: float = 0.15
    # Weight of the embedding distance in the fused cost (the rest is Mahalanobis distance).
    embedding_weight: float = 0.98
    # Mahalanobis gate: pairs beyond it are never associated in stage 1.
    gate_thres: float = CHI2_95_4DOF
    # EMA factor of the track embedding: smooth = alpha * smooth + (1 - alpha) * new.
    ema_alpha: float = 0.9

    def __post_init__(self) -> None:
        if self.frame_rate <= 0:
            raise ValueError(f"frame_rate must be positive, got {self.frame_rate}")
        if self.track_buffer < 0:
            raise ValueError(f"track_buffer must be >= 0, got {self.track_buffer}")
        for name in ("conf_thres", "embedding_weight", "ema_alpha"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        for name in ("embedding_thres", "iou_thres", "unconfirmed_iou_thres", "gate_thres"):
            if getattr(self, name) <= 0.0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def max_time_lost(self) -> int:
        """Frames a lost track survives: track_buffer scaled from 30 fps to this frame rate."""
        return int(self.frame_rate / BUFFER_REFERENCE_FPS * self.track_buffer)
