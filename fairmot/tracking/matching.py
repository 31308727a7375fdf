"""Cost matrices and the thresholded linear assignment of the JDE/FairMOT association."""

from __future__ import annotations

import lap
import numpy as np
import numpy.typing as npt

from fairmot.tracking.kalman import Array, KalmanFilter

IntArray = npt.NDArray[np.intp]


def iou_matrix(boxes_a: Array, boxes_b: Array) -> Array:
    """IoU (N,M) between xyxy boxes (N,4) and (M,4); boxes are in pixels (inclusive-exclusive)."""
    a = np.asarray(boxes_a, np.float64)
    b = np.asarray(boxes_b, np.float64)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_distance(boxes_a: Array, boxes_b: Array) -> Array:
    """1 - IoU: the cost of stages 2 and 3."""
    return 1.0 - iou_matrix(boxes_a, boxes_b)


def embedding_distance(track_embeddings: Array, det_embeddings: Array) -> Array:
    """Cosine distance (N,M) in [0, 2] between track and detection embeddings."""
    t = np.asarray(track_embeddings, np.float64)
    d = np.asarray(det_embeddings, np.float64)
    if t.shape[0] == 0 or d.shape[0] == 0:
        return np.zeros((t.shape[0], d.shape[0]))
    t = (t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    d = (d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    # einsum, not `t @ d.T`: from ~50x50 OpenBLAS goes multi-threaded, and on a busy CPU waking
    # its threads took 20+ ms per call; this single-threaded loop takes ~0.06 ms at 50x50.
    similarity = np.einsum("ik,jk->ij", t, d).astype(np.float64)
    return np.clip(1.0 - similarity, 0.0, 2.0)


def fuse_motion(
    kalman: KalmanFilter,
    cost: Array,
    means: Array,
    covariances: Array,
    measurements: Array,
    *,
    weight: float,
    gate: float,
) -> Array:
    """weight * cost + (1 - weight) * Mahalanobis distance; pairs beyond the gate become inf.

    means/covariances are the N tracks' Kalman states, measurements the M detections as
    (cx, cy, a, h).
    """
    if cost.size == 0:
        return cost
    gating = kalman.multi_gating_distance(means, covariances, measurements)
    fused = weight * cost + (1.0 - weight) * gating
    fused[gating > gate] = np.inf
    return fused


def linear_assignment(cost: Array, thresh: float) -> tuple[IntArray, IntArray, IntArray]:
    """Minimum-cost matching keeping only pairs with cost <= thresh (solved jointly by lap).

    Returns (matches (K,2) of [row, col], unmatched rows, unmatched cols).
    """
    rows, cols = cost.shape
    if cost.size == 0:
        return np.empty((0, 2), np.intp), np.arange(rows), np.arange(cols)
    _, x, y = lap.lapjv(cost, extend_cost=True, cost_limit=thresh)
    matched_rows = np.flatnonzero(x >= 0)
    matches = np.stack([matched_rows, x[matched_rows]], axis=1).astype(np.intp)
    return matches, np.flatnonzero(x < 0), np.flatnonzero(y < 0)
