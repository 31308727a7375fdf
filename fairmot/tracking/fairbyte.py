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
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fairmot.tracking.config import FairByteConfig
from fairmot.tracking.detections import Detections
from fairmot.tracking.kalman import Array, KalmanFilterXYWH
from fairmot.tracking.matching import (
    IntArray,
    embedding_distance,
    iou_distance,
    iou_matrix,
    linear_assignment,
)
from fairmot.tracking.track import Track, TrackState, TrackXYWH
from fairmot.tracking.tracker import normalise, remove_duplicates


def _boxes(tracks: list[Track]) -> Array:
    """xyxy (N,4) of (cx, cy, w, h) tracks from their Kalman means, vectorised."""
    if not tracks:
        return np.zeros((0, 4))
    means = np.stack([t.mean[:4] for t in tracks])
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
        self.tracked: list[Track] = []  # confirmed and one-hit tracks seen last frame
        self.lost: list[Track] = []  # kept for re-identification for max_time_lost frames
        self._next_id = 1

    def _new_id(self) -> int:
        track_id = self._next_id
        self._next_id += 1
        return track_id

    def _predict(self, tracks: list[Track]) -> None:
        if not tracks:
            return
        means = np.stack([t.mean for t in tracks])
        # A lost track's size does not keep changing while nobody sees it.
        lost_rows = [i for i, t in enumerate(tracks) if t.state != TrackState.TRACKED]
        means[lost_rows, 6:8] = 0.0
        covariances = np.stack([t.covariance for t in tracks])
        means, covariances = self.kalman.multi_predict(means, covariances)
        for i, track in enumerate(tracks):
            track.mean = means[i]
            track.covariance = covariances[i]

    def _correct(
        self,
        tracks: list[Track],
        measurements: Array,
        embeddings: Array,
        scores: npt.NDArray[np.float32],
        appearance_weight: Array,
    ) -> None:
        """Kalman-update each track with its detection; move its embedding by
        `appearance_weight` (0 keeps it)."""
        if not tracks:
            return
        means = np.stack([t.mean for t in tracks])
        covariances = np.stack([t.covariance for t in tracks])
        means, covariances = self.kalman.multi_update(means, covariances, measurements)
        smooth = np.stack([t.embedding for t in tracks])
        w = appearance_weight[:, None]
        smooth = normalise((1.0 - w) * smooth + w * embeddings)
        for i, track in enumerate(tracks):
            track.mean = means[i]
            track.covariance = covariances[i]
            track.embedding = smooth[i]
            track.score = float(scores[i])
            track.frame_id = self.frame_id
            track.state = TrackState.TRACKED
            track.is_activated = True

    def _first_cost(
        self, pool: list[Track], boxes: Array, embeddings: Array, measurements: Array
    ) -> Array:
        """Stage-1 cost (tracks x high-score detections); inf where a pair is ruled out."""
        cfg = self.config
        if not pool or not len(boxes):
            return np.zeros((len(pool), len(boxes)))
        appearance = embedding_distance(np.stack([t.embedding for t in pool]), embeddings)
        iou_d = iou_distance(_boxes(pool), boxes)
        w = cfg.appearance_weight
        cost = w * appearance + (1.0 - w) * iou_d
        cost[iou_d >= 1.0] = np.inf
        lost_rows = np.array([t.state != TrackState.TRACKED for t in pool])
        if lost_rows.any():
            lost = [t for t, is_lost in zip(pool, lost_rows, strict=True) if is_lost]
            gating = self.kalman.multi_gating_distance(
                np.stack([t.mean for t in lost]),
                np.stack([t.covariance for t in lost]),
                measurements,
            )
            reid = appearance[lost_rows]
            reid = np.where((gating > cfg.gate_thres) | (reid > cfg.reid_thres), np.inf, reid)
            cost[lost_rows] = np.minimum(cost[lost_rows], reid)
        return cost

    def update(self, detections: Detections) -> list[Track]:
        """Associate one frame's detections; returns the confirmed tracks seen in this frame."""
        cfg = self.config
        self.frame_id += 1
        detections = detections.select(detections.scores >= cfg.low_thres)
        boxes = detections.boxes.astype(np.float64)
        measurements = _xyxy_to_xywh(boxes)
        embeddings = normalise(detections.embeddings.astype(np.float64))
        scores = detections.scores
        # Occluded detections: their embedding is a blend of two people.
        overlap = iou_matrix(boxes, boxes)
        np.fill_diagonal(overlap, 0.0)
        clear = overlap.max(axis=1, initial=0.0) <= cfg.occlusion_iou
        high: IntArray = np.flatnonzero(scores >= cfg.high_thres)
        low: IntArray = np.flatnonzero(scores < cfg.high_thres)

        unconfirmed = [t for t in self.tracked if not t.is_activated]
        confirmed = [t for t in self.tracked if t.is_activated]
        pool = confirmed + self.lost
        self._predict(pool + unconfirmed)

        # Stage 1: appearance and motion, confirmed (tracked and lost) tracks vs high detections.
        cost = self._first_cost(pool, boxes[high], embeddings[high], measurements[high])
        matches, pool_left, high_left = linear_assignment(cost, cfg.match_thres)
        matched = [pool[i] for i in matches[:, 0].tolist()]
        det_rows = high[matches[:, 1]]
        refound = [t for t in matched if t.state != TrackState.TRACKED]
        high = high[high_left]

        # Stage 2 (BYTE): tracked tracks left over vs low-score detections on IoU.
        remaining = [pool[i] for i in pool_left.tolist() if pool[i].state == TrackState.TRACKED]
        cost = iou_distance(_boxes(remaining), boxes[low])
        matches2, remaining_left, _ = linear_assignment(cost, cfg.low_iou_thres)
        low_matched = [remaining[i] for i in matches2[:, 0].tolist()]
        low_rows = low[matches2[:, 1]]
        newly_lost = [remaining[i] for i in remaining_left.tolist()]

        # Stage 3: one-hit tracks vs high detections left over, on IoU.
        cost = iou_distance(_boxes(unconfirmed), boxes[high])
        matches3, unconfirmed_left, high_left3 = linear_assignment(cost, cfg.unconfirmed_iou_thres)
        matched += [unconfirmed[i] for i in matches3[:, 0].tolist()]
        det_rows = np.concatenate([det_rows, high[matches3[:, 1]]]).astype(np.intp)
        high = high[high_left3]
        for i in unconfirmed_left.tolist():
            unconfirmed[i].mark_removed()

        weights = (1.0 - cfg.ema_alpha) * scores[det_rows].astype(np.float64) * clear[det_rows]
        self._correct(
            matched + low_matched,
            measurements[np.concatenate([det_rows, low_rows]).astype(np.intp)],
            embeddings[np.concatenate([det_rows, low_rows]).astype(np.intp)],
            scores[np.concatenate([det_rows, low_rows]).astype(np.intp)],
            np.concatenate([weights, np.zeros(len(low_rows))]),
        )
        for track in newly_lost:
            track.mark_lost()

        # Stage 4: new tracks from confident detections; confirmed at once only on frame 1.
        starts = high[scores[high] >= cfg.new_track_thres]
        new_tracks: list[Track] = []
        if starts.size:
            new_means, new_covs = self.kalman.multi_initiate(measurements[starts])
            for k, d in enumerate(starts.tolist()):
                new_tracks.append(
                    TrackXYWH(
                        self._new_id(),
                        new_means[k],
                        new_covs[k],
                        float(scores[d]),
                        embeddings[d].copy(),
                        self.frame_id,
                        activated=self.frame_id == 1,
                    )
                )

        # Stage 5: forget tracks lost for too long.
        for track in self.lost:
            if self.frame_id - track.end_frame > cfg.max_time_lost:
                track.mark_removed()

        tracked = [t for t in self.tracked if t.state == TrackState.TRACKED]
        tracked += refound + new_tracks
        lost = [t for t in self.lost if t.state == TrackState.LOST] + newly_lost
        self.tracked, self.lost = remove_duplicates(tracked, lost, _boxes, cfg.duplicate_iou_thres)
        return [t for t in self.tracked if t.is_activated and t.frame_id == self.frame_id]
