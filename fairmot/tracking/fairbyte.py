"""The default tracker: BYTE's two score bands with FairMOT's embeddings where they are reliable.

Per frame, after one batched Kalman prediction (state (cx, cy, w, h) and velocities):
1. Confirmed tracks vs high-score detections in one assignment. A tracked track's cost fuses
   cosine distance and IoU distance (pairs that do not overlap are never matched); a lost track
   has no IoU worth the name after an occlusion, so its cost is the cosine distance alone,
   allowed only under the Mahalanobis gate and below `reid_thres`.
2. Tracked tracks left over vs low-score detections on IoU (BYTE): occluded people score low,
   and keeping their tracks alive through the occlusion saves an identity switch.
3. One-hit tracks vs high-score detections left over on IoU; unmatched ones are dropped.
4. High-score detections still unmatched and scoring at least `new_track_thres` start tracks.
A track's embedding moves towards its detection's in proportion to the detection's score, and
not at all for a detection overlapping another one (its embedding mixes two people) or matched in
the low band.

The tracker keeps every track's state in arrays (one row per track) and refreshes a row's `Track`
object only when it is reported: per-track Python objects and their stacking cost more than the
arithmetic in crowds of hundreds (bench/tracker.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fairmot.tracking.config import FairByteConfig
from fairmot.tracking.detections import Detections, FloatArray
from fairmot.tracking.kalman import Array, KalmanFilterXYWH
from fairmot.tracking.matching import (
    IntArray,
    embedding_distance,
    iou_distance,
    overlapping_pairs,
    sparse_linear_assignment,
)
from fairmot.tracking.track import Track, TrackState, TrackXYWH
from fairmot.tracking.tracker import normalise


def _xyxy(means: Array) -> Array:
    """xyxy (N,4) boxes from (cx, cy, w, h, ...) Kalman means (N,8)."""
    half = means[:, 2:4] / 2
    return np.concatenate([means[:, :2] - half, means[:, :2] + half], axis=1)


def _xyxy_to_xywh(boxes: Array) -> Array:
    """xyxy rows -> (cx, cy, w, h) rows, the Kalman measurement."""
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1)


class FairByteTracker:
    """Online multi-object tracker for one class. Feed one `Detections` per frame, in order."""

    def __init__(self, config: FairByteConfig | None = None) -> None:
        self.config = config or FairByteConfig()
        self.kalman = KalmanFilterXYWH()
        self.reset()

    def reset(self) -> None:
        """Forget all tracks and restart ids at 1 (a new video)."""
        self.frame_id = 0
        self._next_id = 1
        self._resize(0, dim=0)

    def _resize(self, n: int, dim: int) -> None:
        # One row per live track (tracked, one-hit or lost).
        self.ids = np.zeros(n, np.int64)
        self.means = np.zeros((n, 8))
        self.covariances = np.zeros((n, 8, 8))
        self.embeddings = np.zeros((n, dim), np.float32)
        self.scores = np.zeros(n)
        self.states = np.full(n, int(TrackState.TRACKED), np.int64)
        self.activated = np.zeros(n, bool)
        self.last_frame = np.zeros(n, np.int64)
        self.start_frame = np.zeros(n, np.int64)
        # The Track object of each row, handed out in answers and refreshed when reported.
        self.objects: list[Track] = []

    def _keep(self, rows: npt.NDArray[np.bool_]) -> None:
        if rows.all():
            return
        for name in ARRAYS:
            setattr(self, name, getattr(self, name)[rows])
        self.objects = [o for o, keep in zip(self.objects, rows.tolist(), strict=True) if keep]

    def _append(self, measurements: Array, embeddings: FloatArray, scores: Array) -> None:
        n = len(measurements)
        if not n:
            return
        means, covariances = self.kalman.multi_initiate(measurements)
        if not len(self.ids):
            self._resize(0, dim=embeddings.shape[1])
        ids = np.arange(self._next_id, self._next_id + n)
        new: dict[str, npt.NDArray[Any]] = {
            "ids": ids,
            "means": means,
            "covariances": covariances,
            "embeddings": embeddings,
            "scores": scores,
            "states": np.full(n, int(TrackState.TRACKED)),
            "activated": np.full(n, self.frame_id == 1),
            "last_frame": np.full(n, self.frame_id),
            "start_frame": np.full(n, self.frame_id),
        }
        self.objects += [
            TrackXYWH(
                int(ids[k]),
                means[k],
                covariances[k],
                float(scores[k]),
                embeddings[k],
                self.frame_id,
                activated=self.frame_id == 1,
            )
            for k in range(n)
        ]
        self._next_id += n
        for name in ARRAYS:
            setattr(self, name, np.concatenate([getattr(self, name), new[name]]))

    def _first_cost(
        self, rows: IntArray, boxes: Array, embeddings: FloatArray, measurements: Array
    ) -> Array:
        """Stage-1 cost (track rows x high-score detections); inf where a pair is ruled out.

        Cosine distances are computed only for pairs that can match (overlapping boxes, or lost
        tracks): in a crowd of 200 that is a few per track, not 200."""
        cfg = self.config
        cost = np.full((len(rows), len(boxes)), np.inf)
        if not len(rows) or not len(boxes):
            return cost
        r, c, iou = overlapping_pairs(_xyxy(self.means[rows]), boxes)
        appearance = 1.0 - np.einsum("ij,ij->i", self.embeddings[rows[r]], embeddings[c])
        w = cfg.appearance_weight
        cost[r, c] = w * appearance + (1.0 - w) * (1.0 - iou)
        lost = np.flatnonzero(self.states[rows] == TrackState.LOST)
        if lost.size:
            gating = self.kalman.multi_gating_distance(
                self.means[rows[lost]], self.covariances[rows[lost]], measurements
            )
            reid = embedding_distance(self.embeddings[rows[lost]], embeddings)
            reid[(gating > cfg.gate_thres) | (reid > cfg.reid_thres)] = np.inf
            cost[lost] = np.minimum(cost[lost], reid)
        return cost

    def update(self, detections: Detections) -> list[Track]:
        """Associate one frame's detections; returns the confirmed tracks seen in this frame."""
        cfg = self.config
        self.frame_id += 1
        # Thresholds compare in the scores' float32: a score of 0.65 is "at" a threshold of 0.65.
        # Plain masks, not Detections.select: the input was validated once already.
        kept = detections.scores >= np.float32(cfg.low_thres)
        scores32 = detections.scores[kept]
        boxes = detections.boxes[kept].astype(np.float64)
        measurements = _xyxy_to_xywh(boxes)
        # float32 embeddings: half the memory traffic of float64, and cosine needs no more.
        embeddings = normalise(detections.embeddings[kept])
        scores = scores32.astype(np.float64)
        # Occluded detections: their embedding is a blend of two people.
        r, c, iou = overlapping_pairs(boxes, boxes)
        overlap = np.zeros(len(boxes))
        np.maximum.at(overlap, r[r != c], iou[r != c])
        clear = overlap <= cfg.occlusion_iou
        is_high = scores32 >= np.float32(cfg.high_thres)
        high: IntArray = np.flatnonzero(is_high)
        low: IntArray = np.flatnonzero(~is_high)

        if len(self.ids):
            # A lost track's size does not keep changing while nobody sees it.
            self.means[self.states == TrackState.LOST, 6:8] = 0.0
            self.means, self.covariances = self.kalman.multi_predict(self.means, self.covariances)
        pool = np.flatnonzero(self.activated)
        unconfirmed = np.flatnonzero(~self.activated)

        # Stage 1: appearance and motion, confirmed (tracked and lost) tracks vs high detections.
        cost = self._first_cost(pool, boxes[high], embeddings[high], measurements[high])
        matches, pool_left, high_left = sparse_linear_assignment(cost, cfg.match_thres)
        rows = pool[matches[:, 0]]
        det_rows = high[matches[:, 1]]
        high = high[high_left]

        # Stage 2 (BYTE): tracked tracks left over vs low-score detections on IoU.
        remaining = pool[pool_left]
        remaining = remaining[self.states[remaining] == TrackState.TRACKED]
        cost = iou_distance(_xyxy(self.means[remaining]), boxes[low])
        matches2, remaining_left, _ = sparse_linear_assignment(cost, cfg.low_iou_thres)
        low_rows = remaining[matches2[:, 0]]
        low_det_rows = low[matches2[:, 1]]
        self.states[remaining[remaining_left]] = TrackState.LOST

        # Stage 3: one-hit tracks vs high detections left over, on IoU.
        cost = iou_distance(_xyxy(self.means[unconfirmed]), boxes[high])
        matches3, unconfirmed_left, high_left3 = sparse_linear_assignment(
            cost, cfg.unconfirmed_iou_thres
        )
        rows = np.concatenate([rows, unconfirmed[matches3[:, 0]]])
        det_rows = np.concatenate([det_rows, high[matches3[:, 1]]])
        high = high[high_left3]

        weights = (1.0 - cfg.ema_alpha) * scores[det_rows] * clear[det_rows]
        self._correct(
            np.concatenate([rows, low_rows]),
            np.concatenate([det_rows, low_det_rows]),
            measurements,
            embeddings,
            scores,
            np.concatenate([weights, np.zeros(len(low_rows))]),
        )

        # Drop one-hit tracks that missed, and tracks lost for too long.
        keep = np.ones(len(self.ids), bool)
        keep[unconfirmed[unconfirmed_left]] = False
        keep &= (self.states != TrackState.LOST) | (
            self.frame_id - self.last_frame <= cfg.max_time_lost
        )
        self._keep(keep)
        self._remove_duplicates()

        # Stage 4: new tracks from confident detections; confirmed at once only on frame 1.
        starts = high[scores32[high] >= np.float32(cfg.new_track_thres)]
        self._append(measurements[starts], embeddings[starts], scores[starts])
        return self._answer()

    def _correct(
        self,
        rows: IntArray,
        det_rows: IntArray,
        measurements: Array,
        embeddings: FloatArray,
        scores: Array,
        appearance_weight: Array,
    ) -> None:
        """Kalman-update track rows with their detections; move their embeddings by
        `appearance_weight` (0 keeps them)."""
        if not rows.size:
            return
        means, covariances = self.kalman.multi_update(
            self.means[rows], self.covariances[rows], measurements[det_rows]
        )
        self.means[rows] = means
        self.covariances[rows] = covariances
        moves = appearance_weight > 0
        w = appearance_weight[moves, None].astype(np.float32)
        moving, sources = rows[moves], det_rows[moves]
        self.embeddings[moving] = normalise(
            (1.0 - w) * self.embeddings[moving] + w * embeddings[sources]
        )
        self.scores[rows] = scores[det_rows]
        self.states[rows] = TrackState.TRACKED
        self.activated[rows] = True
        self.last_frame[rows] = self.frame_id

    def _remove_duplicates(self) -> None:
        """A tracked and a lost track on the same spot are one object: keep the older one."""
        tracked = np.flatnonzero(self.states == TrackState.TRACKED)
        lost = np.flatnonzero(self.states == TrackState.LOST)
        if not tracked.size or not lost.size:
            return
        r, c, iou = overlapping_pairs(_xyxy(self.means[tracked]), _xyxy(self.means[lost]))
        close = 1.0 - iou < self.config.duplicate_iou_thres
        p, q = tracked[r[close]], lost[c[close]]
        age = self.last_frame - self.start_frame
        drop = np.where(age[p] > age[q], q, p)
        keep = np.ones(len(self.ids), bool)
        keep[drop] = False
        self._keep(keep)

    def _answer(self) -> list[Track]:
        """The confirmed tracks matched this frame, their objects refreshed from the arrays."""
        rows = np.flatnonzero(self.activated & (self.last_frame == self.frame_id))
        # Fancy indexing copies once for all answers: later in-place updates do not reach them.
        means, covariances = self.means[rows], self.covariances[rows]
        embeddings = self.embeddings[rows]
        out: list[Track] = []
        for k, (i, score) in enumerate(zip(rows.tolist(), self.scores[rows].tolist(), strict=True)):
            track = self.objects[i]
            track.mean = means[k]
            track.covariance = covariances[k]
            track.embedding = embeddings[k]
            track.score = score
            track.frame_id = self.frame_id
            track.is_activated = True
            out.append(track)
        return out


# The per-track arrays of FairByteTracker, kept row-aligned.
ARRAYS = (
    "ids",
    "means",
    "covariances",
    "embeddings",
    "scores",
    "states",
    "activated",
    "last_frame",
    "start_frame",
)
