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

The tracker keeps every track's state in arrays (one row per track; Kalman covariances as the
xywh filter's (N,12) blocks) and a reported track's object only points at its row of one copy of
the frame's answer: per-track Python work and small numpy calls, not arithmetic, are what cost in
crowds of hundreds (bench/tracker.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fairmot.tracking.camera_motion import Warp, warp_blocks, warp_means
from fairmot.tracking.config import FairByteConfig
from fairmot.tracking.detections import Detections, FloatArray
from fairmot.tracking.kalman import Array, KalmanFilterXYWH, from_blocks
from fairmot.tracking.matching import (
    IntArray,
    embedding_distance,
    iou_distance,
    overlapping_pairs,
    pair_linear_assignment,
    sparse_linear_assignment,
)
from fairmot.tracking.track import Track, TrackState, TrackXYWH
from fairmot.tracking.tracker import normalise

# Plain ints: comparing an int array with an IntEnum member goes through the enum's Python code.
TRACKED = int(TrackState.TRACKED)
LOST = int(TrackState.LOST)


def _xyxy(means: Array) -> Array:
    """xyxy (N,4) boxes from (cx, cy, w, h, ...) Kalman means (N,8)."""
    half = means[:, 2:4] / 2
    return np.concatenate([means[:, :2] - half, means[:, :2] + half], axis=1)


def _xyxy_to_xywh(boxes: Array) -> Array:
    """xyxy rows -> (cx, cy, w, h) rows, the Kalman measurement."""
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1)


class _Reported:
    """The numbers of the tracks reported in one frame, copied once for all of them: later
    in-place updates of the tracker's arrays do not reach an answer."""

    __slots__ = ("blocks", "embeddings", "frame_id", "means", "scores")

    def __init__(
        self, means: Array, blocks: Array, embeddings: FloatArray, scores: Array, frame_id: int
    ) -> None:
        self.means = means
        self.blocks = blocks
        self.embeddings = embeddings
        self.scores = scores
        self.frame_id = frame_id


class FairByteTrack(TrackXYWH):
    """A fairbyte track: its numbers are its row of the last frame it was reported in."""

    __slots__ = ("reported", "row")
    # Set by the tracker when it reports the track.
    reported: _Reported
    row: int

    def __init__(self, track_id: int, start_frame: int) -> None:
        self.track_id = track_id
        self.class_id = 0
        self.start_frame = start_frame
        self.state = TrackState.TRACKED

    @property
    def mean(self) -> Array:  # type: ignore[override]
        return self.reported.means[self.row]

    @property
    def covariance(self) -> Array:  # type: ignore[override]
        return from_blocks(self.reported.blocks[self.row : self.row + 1])[0]

    @property
    def embedding(self) -> FloatArray:  # type: ignore[override]
        return self.reported.embeddings[self.row]

    @property
    def score(self) -> float:  # type: ignore[override]
        return float(self.reported.scores[self.row])

    @property
    def frame_id(self) -> int:  # type: ignore[override]
        return self.reported.frame_id

    @property
    def is_activated(self) -> bool:  # type: ignore[override]
        return True  # only confirmed tracks are reported


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
        self.blocks = np.zeros((n, 12))
        self.embeddings = np.zeros((n, dim), np.float32)
        self.scores = np.zeros(n)
        self.states = np.full(n, TRACKED, np.int64)
        self.activated = np.zeros(n, bool)
        self.last_frame = np.zeros(n, np.int64)
        self.start_frame = np.zeros(n, np.int64)
        # The Track object of each row, handed out in answers.
        self.objects: list[FairByteTrack] = []

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
        means, blocks = self.kalman.initiate_blocks(measurements)
        if not len(self.ids):
            self._resize(0, dim=embeddings.shape[1])
        ids = np.arange(self._next_id, self._next_id + n)
        new: dict[str, npt.NDArray[Any]] = {
            "ids": ids,
            "means": means,
            "blocks": blocks,
            "embeddings": embeddings,
            "scores": scores,
            "states": np.full(n, TRACKED),
            "activated": np.full(n, self.frame_id == 1),
            "last_frame": np.full(n, self.frame_id),
            "start_frame": np.full(n, self.frame_id),
        }
        self.objects += [FairByteTrack(i, self.frame_id) for i in ids.tolist()]
        self._next_id += n
        for name in ARRAYS:
            setattr(self, name, np.concatenate([getattr(self, name), new[name]]))

    def _first_cost(
        self,
        rows: IntArray,
        overlaps: tuple[IntArray, IntArray, Array],
        embeddings: FloatArray,
        measurements: Array,
    ) -> tuple[IntArray, IntArray, Array]:
        """Stage-1 costs (track rows x high-score detections) as the pairs that may match:
        (row, col, cost); every other pair is ruled out. `overlaps` are the (row, col, IoU) of
        the boxes that overlap.

        Cosine distances are computed only for pairs that can match (overlapping boxes, or lost
        tracks): in a crowd of 200 that is a few per track, not 200."""
        cfg = self.config
        if not len(rows) or not len(embeddings):
            empty = np.zeros(0, np.intp)
            return empty, empty, np.zeros(0)
        r, c, iou = overlaps
        appearance = 1.0 - np.einsum("ij,ij->i", self.embeddings[rows[r]], embeddings[c])
        w = cfg.appearance_weight
        cost = w * appearance + (1.0 - w) * (1.0 - iou)
        lost = np.flatnonzero(self.states[rows] == LOST)
        if not lost.size:
            return r, c, cost
        # Lost tracks: the cheaper of the fused cost (where boxes overlap) and re-identification.
        gating = self.kalman.gating_blocks(
            self.means[rows[lost]], self.blocks[rows[lost]], measurements
        )
        reid = embedding_distance(self.embeddings[rows[lost]], embeddings)
        reid[(gating > cfg.gate_thres) | (reid > cfg.reid_thres)] = np.inf
        lost_at = np.full(len(rows), -1)
        lost_at[lost] = np.arange(lost.size)
        of_lost = lost_at[r] >= 0
        reid[lost_at[r[of_lost]], c[of_lost]] = np.minimum(
            reid[lost_at[r[of_lost]], c[of_lost]], cost[of_lost]
        )
        lr, lc = np.nonzero(np.isfinite(reid))
        keep = ~of_lost
        return (
            np.concatenate([r[keep], lost[lr]]),
            np.concatenate([c[keep], lc]),
            np.concatenate([cost[keep], reid[lr, lc]]),
        )

    def compensate(self, warp: Warp) -> None:
        """Move every track by the camera's motion since the last frame (a (2,3) affine from
        `camera_motion.estimate_camera_motion`); call before `update` of the new frame."""
        if len(self.ids):
            self.means = warp_means(warp, self.means)
            self.blocks = warp_blocks(warp, self.blocks)

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
        is_high = scores32 >= np.float32(cfg.high_thres)
        high: IntArray = np.flatnonzero(is_high)
        low: IntArray = np.flatnonzero(~is_high)

        if len(self.ids):
            # A lost track's size does not keep changing while nobody sees it.
            self.means[self.states == LOST, 6:8] = 0.0
            self.means, self.blocks = self.kalman.predict_blocks(self.means, self.blocks)
        pool = np.flatnonzero(self.activated)
        unconfirmed = np.flatnonzero(~self.activated)

        # One sweep over the detections for both overlaps that matter: detections with each
        # other (an occluded detection's embedding is a blend of two people) and confirmed
        # tracks' predictions with high-score detections (stage 1's candidates).
        r, c, iou = overlapping_pairs(np.concatenate([_xyxy(self.means[pool]), boxes]), boxes)
        of_tracks = r < len(pool)
        others = ~of_tracks & (r - len(pool) != c)
        overlap = np.zeros(len(boxes))
        np.maximum.at(overlap, r[others] - len(pool), iou[others])
        clear = overlap <= cfg.occlusion_iou
        high_at = np.full(len(boxes), -1)
        high_at[high] = np.arange(high.size)
        with_high = of_tracks & (high_at[c] >= 0)
        overlaps = (r[with_high], high_at[c[with_high]], iou[with_high])

        # Stage 1: appearance and motion, confirmed (tracked and lost) tracks vs high detections.
        pairs = self._first_cost(pool, overlaps, embeddings[high], measurements[high])
        matches, pool_left, high_left = pair_linear_assignment(
            *pairs, (len(pool), len(high)), cfg.match_thres
        )
        rows = pool[matches[:, 0]]
        det_rows = high[matches[:, 1]]
        high = high[high_left]

        # Stage 2 (BYTE): tracked tracks left over vs low-score detections on IoU.
        remaining = pool[pool_left]
        remaining = remaining[self.states[remaining] == TRACKED]
        low_rows = low_det_rows = np.zeros(0, np.intp)
        if remaining.size and low.size:
            cost = iou_distance(_xyxy(self.means[remaining]), boxes[low])
            matches2, remaining_left, _ = sparse_linear_assignment(cost, cfg.low_iou_thres)
            low_rows = remaining[matches2[:, 0]]
            low_det_rows = low[matches2[:, 1]]
            remaining = remaining[remaining_left]
        self.states[remaining] = LOST

        # Stage 3: one-hit tracks vs high detections left over, on IoU.
        unconfirmed_left = unconfirmed
        if unconfirmed.size and high.size:
            cost = iou_distance(_xyxy(self.means[unconfirmed]), boxes[high])
            matches3, left, high_left3 = sparse_linear_assignment(cost, cfg.unconfirmed_iou_thres)
            unconfirmed_left = unconfirmed[left]
            rows = np.concatenate([rows, unconfirmed[matches3[:, 0]]])
            det_rows = np.concatenate([det_rows, high[matches3[:, 1]]])
            high = high[high_left3]

        weights = (1.0 - cfg.ema_alpha) * scores[det_rows] * clear[det_rows]
        if low_rows.size:
            rows = np.concatenate([rows, low_rows])
            det_rows = np.concatenate([det_rows, low_det_rows])
            weights = np.concatenate([weights, np.zeros(len(low_rows))])
        self._correct(rows, det_rows, measurements, embeddings, scores, weights)

        # Drop one-hit tracks that missed, and tracks lost for too long.
        keep = (self.states != LOST) | (self.frame_id - self.last_frame <= cfg.max_time_lost)
        keep[unconfirmed_left] = False
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
        self.means[rows], self.blocks[rows] = self.kalman.update_blocks(
            self.means[rows], self.blocks[rows], measurements[det_rows]
        )
        moves = appearance_weight > 0
        w = appearance_weight[moves, None].astype(np.float32)
        moving, sources = rows[moves], det_rows[moves]
        self.embeddings[moving] = normalise(
            (1.0 - w) * self.embeddings[moving] + w * embeddings[sources]
        )
        self.scores[rows] = scores[det_rows]
        self.states[rows] = TRACKED
        self.activated[rows] = True
        self.last_frame[rows] = self.frame_id

    def _remove_duplicates(self) -> None:
        """A tracked and a lost track on the same spot are one object: keep the older one."""
        is_lost = self.states == LOST
        if not is_lost.any() or is_lost.all():
            return
        tracked = np.flatnonzero(~is_lost)
        lost = np.flatnonzero(is_lost)
        r, c, iou = overlapping_pairs(_xyxy(self.means[tracked]), _xyxy(self.means[lost]))
        close = 1.0 - iou < self.config.duplicate_iou_thres
        if not close.any():
            return
        p, q = tracked[r[close]], lost[c[close]]
        age = self.last_frame - self.start_frame
        drop = np.where(age[p] > age[q], q, p)
        keep = np.ones(len(self.ids), bool)
        keep[drop] = False
        self._keep(keep)

    def _answer(self) -> list[Track]:
        """The confirmed tracks matched this frame, pointing at one copy of their rows."""
        rows = np.flatnonzero(self.activated & (self.last_frame == self.frame_id))
        # Fancy indexing copies once for all answers.
        reported = _Reported(
            self.means[rows],
            self.blocks[rows],
            self.embeddings[rows],
            self.scores[rows],
            self.frame_id,
        )
        objects = self.objects
        out: list[Track] = []
        for k, i in enumerate(rows.tolist()):
            track = objects[i]
            track.reported = reported
            track.row = k
            out.append(track)
        return out


# The per-track arrays of FairByteTracker, kept row-aligned.
ARRAYS = (
    "ids",
    "means",
    "blocks",
    "embeddings",
    "scores",
    "states",
    "activated",
    "last_frame",
    "start_frame",
)
