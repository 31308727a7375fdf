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
        _check_ranges(
            self,
            ("conf_thres", "embedding_weight", "ema_alpha"),
            ("embedding_thres", "iou_thres", "unconfirmed_iou_thres", "gate_thres"),
        )

    @property
    def max_time_lost(self) -> int:
        """Frames a lost track survives: track_buffer scaled from 30 fps to this frame rate."""
        return max_time_lost(self)


@dataclass(frozen=True)
class FairByteConfig:
    """Settings of `FairByteTracker`, the default: BYTE's two score bands with FairMOT's
    embeddings fused into the first association. Defaults are the values that won the peer
    benchmark (bench/trackers.py); fairmot/tracking/configs/fairbyte.yaml holds the same."""

    frame_rate: float = 30
    # Frames (at 30 fps) a lost track is kept for re-identification.
    track_buffer: int = 30
    # Detections scoring at or above this are matched first, on appearance and motion.
    high_thres: float = 0.35
    # Detections between this and high_thres (occluded people, mostly) are matched second, on IoU
    # to tracked tracks only (BYTE); below it they are ignored.
    low_thres: float = 0.1
    # Only detections scoring at or above this start a track (false positives rarely do).
    new_track_thres: float = 0.65
    # Stage 1 cost threshold: cost = appearance_weight * cosine + (1 - appearance_weight) * (1 - IoU).
    match_thres: float = 0.7
    appearance_weight: float = 0.7
    # Stage 1 for lost tracks (no IoU left after a long occlusion): cosine distance threshold
    # under the Mahalanobis gate.
    reid_thres: float = 0.3
    # Mahalanobis gate (chi-square, 4 dof, 95%): pairs beyond it are never associated.
    gate_thres: float = CHI2_95_4DOF
    # Stage 2 (low band) and stage 3 (one-hit tracks) IoU distance thresholds.
    low_iou_thres: float = 0.5
    unconfirmed_iou_thres: float = 0.7
    # Tracked and lost tracks closer than this IoU distance are duplicates.
    duplicate_iou_thres: float = 0.15
    # EMA factor of the track embedding at full confidence; lower-scoring detections move it less.
    ema_alpha: float = 0.9
    # A detection overlapping another by more than this IoU is occluded: its embedding is a blend
    # of two people, so it does not update the track's appearance.
    occlusion_iou: float = 0.3
    # Camera-motion compensation: the tracks move with the camera's motion, estimated from the
    # previous and current frame (camera_motion.py), before matching. For moving cameras; off
    # for fixed ones, where it only costs time (bench/tracker.py: several updates a frame).
    camera_motion: bool = False

    def __post_init__(self) -> None:
        _check_ranges(
            self,
            (
                "high_thres",
                "low_thres",
                "new_track_thres",
                "appearance_weight",
                "ema_alpha",
                "occlusion_iou",
            ),
            ("match_thres", "reid_thres", "gate_thres", "low_iou_thres", "unconfirmed_iou_thres"),
        )
        if self.low_thres > self.high_thres:
            raise ValueError(
                f"low_thres ({self.low_thres}) must not exceed high_thres ({self.high_thres})"
            )

    @property
    def max_time_lost(self) -> int:
        """Frames a lost track survives: track_buffer scaled from 30 fps to this frame rate."""
        return max_time_lost(self)


def _check_ranges(
    config: TrackerConfig | FairByteConfig, fractions: tuple[str, ...], positives: tuple[str, ...]
) -> None:
    """The checks every tracker config shares: a positive frame rate, a non-negative buffer,
    `fractions` in [0, 1] and `positives` above 0."""
    if config.frame_rate <= 0:
        raise ValueError(f"frame_rate must be positive, got {config.frame_rate}")
    if config.track_buffer < 0:
        raise ValueError(f"track_buffer must be >= 0, got {config.track_buffer}")
    for name in fractions:
        value = getattr(config, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    for name in positives:
        if getattr(config, name) <= 0.0:
            raise ValueError(f"{name} must be positive, got {getattr(config, name)}")


def max_time_lost(config: TrackerConfig | FairByteConfig) -> int:
    """Frames a lost track survives: track_buffer scaled from 30 fps to the frame rate."""
    return int(config.frame_rate / BUFFER_REFERENCE_FPS * config.track_buffer)
