"""A single tracked object: Kalman state, EMA embedding and life-cycle state."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class TrackState(IntEnum):
    """Life cycle: NEW (never used after creation), TRACKED, LOST (kept for re-identification),
    REMOVED (gone for good)."""

    NEW = 0
    TRACKED = 1
    LOST = 2
    REMOVED = 3


def tlwh_to_xyah(tlwh: Array) -> Array:
    """(x, y, w, h) rows -> (cx, cy, w/h, h) rows, the Kalman measurement."""
    out = np.array(tlwh, dtype=np.float64, copy=True)
    out[..., :2] += out[..., 2:] / 2
    out[..., 2] /= out[..., 3]
    return out


def xyxy_to_tlwh(boxes: Array) -> Array:
    """(x1, y1, x2, y2) rows -> (x, y, w, h) rows."""
    out = np.array(boxes, dtype=np.float64, copy=True)
    out[..., 2:] -= out[..., :2]
    return out


def tlwh_to_xyxy(tlwh: Array) -> Array:
    """(x, y, w, h) rows -> (x1, y1, x2, y2) rows."""
    out = np.array(tlwh, dtype=np.float64, copy=True)
    out[..., 2:] += out[..., :2]
    return out


class Track:
    """One object's track. The tracker owns and mutates it; read `track_id`, `box`, `tlwh`,
    `score` after each `update` (the object is reused across frames)."""

    __slots__ = (
        "class_id",
        "covariance",
        "embedding",
        "frame_id",
        "is_activated",
        "mean",
        "score",
        "start_frame",
        "state",
        "track_id",
    )

    def __init__(
        self,
        track_id: int,
        mean: Array,
        covariance: Array,
        score: float,
        embedding: Array,
        frame_id: int,
        *,
        activated: bool,
        class_id: int = 0,
    ) -> None:
        self.track_id = track_id
        # Fixed for the track's life: each class has its own pool, so ids never change class.
        self.class_id = class_id
        self.mean = mean
        self.covariance = covariance
        self.score = score
        # L2-normalised EMA of the detections' embeddings.
        self.embedding = embedding
        self.frame_id = frame_id
        self.start_frame = frame_id
        self.state = TrackState.TRACKED
        # A track is reported only once confirmed (second hit, or any hit on the first frame).
        self.is_activated = activated

    @property
    def end_frame(self) -> int:
        """Last frame this track was matched to a detection."""
        return self.frame_id

    @property
    def tlwh(self) -> Array:
        """Current box as (x, y, w, h) from the Kalman state."""
        w = self.mean[2] * self.mean[3]
        h = self.mean[3]
        return np.array([self.mean[0] - w / 2, self.mean[1] - h / 2, w, h])

    @property
    def box(self) -> Array:
        """Current box as (x1, y1, x2, y2) in image pixels."""
        return tlwh_to_xyxy(self.tlwh)

    def mark_lost(self) -> None:
        self.state = TrackState.LOST

    def mark_removed(self) -> None:
        self.state = TrackState.REMOVED

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(id={self.track_id}, class={self.class_id}, state={self.state.name}, "
            f"frames={self.start_frame}-{self.end_frame}, box={np.round(self.box, 1).tolist()})"
        )


class TrackXYWH(Track):
    """A track whose Kalman state is (cx, cy, w, h) rather than (cx, cy, aspect, h)."""

    __slots__ = ()

    @property
    def tlwh(self) -> Array:
        """Current box as (x, y, w, h) from the Kalman state."""
        cx, cy, w, h = self.mean[:4]
        return np.array([cx - w / 2, cy - h / 2, w, h])


class TrackReport(NamedTuple):
    """What one frame reported of a track, fixed at that frame: the tracker goes on mutating (or
    re-reading) its Track objects, so tracks kept past the next update must be reports."""

    track_id: int
    tlwh: Array
    score: float
    class_id: int

    @property
    def box(self) -> Array:
        """The box as (x1, y1, x2, y2) in image pixels, like Track.box."""
        return tlwh_to_xyxy(self.tlwh)


def reports(tracks: Iterable[Track]) -> list[TrackReport]:
    """The tracks one update returned, read now."""
    return [
        TrackReport(t.track_id, np.array(t.tlwh), float(t.score), int(t.class_id)) for t in tracks
    ]
