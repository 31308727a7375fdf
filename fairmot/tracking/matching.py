"""Cost matrices and the thresholded linear assignment of the JDE/FairMOT association."""

from __future__ import annotations

from typing import Any

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
    across, down = _axis_overlaps(a, b)
    inter = np.clip(across, 0, None) * np.clip(down, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _axis_overlaps(a: Array, b: Array) -> tuple[Array, Array]:
    """(N,M) overlap lengths of xyxy boxes a[i], b[j] along x and along y (negative: apart).
    One array per axis: numpy's inner loops run along M, not along a length-2 axis."""
    across = np.minimum(a[:, 2:3], b[:, 2]) - np.maximum(a[:, 0:1], b[:, 0])
    down = np.minimum(a[:, 3:4], b[:, 3]) - np.maximum(a[:, 1:2], b[:, 1])
    return across, down


def iou_distance(boxes_a: Array, boxes_b: Array) -> Array:
    """1 - IoU: the cost of stages 2 and 3."""
    return 1.0 - iou_matrix(boxes_a, boxes_b)


def embedding_distance(
    track_embeddings: npt.NDArray[np.floating[Any]], det_embeddings: npt.NDArray[np.floating[Any]]
) -> Array:
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


def sparse_linear_assignment(cost: Array, thresh: float) -> tuple[IntArray, IntArray, IntArray]:
    """`linear_assignment` for sparse costs (most pairs above thresh or inf): same result, faster.

    The thresholded matching separates over the connected parts of the graph of admissible pairs
    (cost <= thresh). A pair alone in both its row and its column is a part by itself and is
    matched directly; lap solves what is left, which in a crowd is a small corner of the matrix.
    """
    if cost.size == 0:
        return np.empty((0, 2), np.intp), np.arange(cost.shape[0]), np.arange(cost.shape[1])
    rows, cols = np.nonzero(cost <= thresh)
    direct, rest_rows, rest_cols = _separate(rows, cols, cost.shape)
    sub = cost[np.ix_(rest_rows, rest_cols)]
    return _join(direct, rest_rows, rest_cols, sub, thresh, cost.shape)


def pair_linear_assignment(
    rows: IntArray,
    cols: IntArray,
    costs: Array,
    shape: tuple[int, int],
    thresh: float,
    fill: float = np.inf,
) -> tuple[IntArray, IntArray, IntArray]:
    """`sparse_linear_assignment` of a cost matrix given as its listed pairs (each (row, col)
    once); every other entry costs `fill`. No dense matrix is built: in a crowd of 200 the
    listed pairs are a few per row."""
    admissible = costs <= thresh
    direct, rest_rows, rest_cols = _separate(rows[admissible], cols[admissible], shape)
    sub = np.full((rest_rows.size, rest_cols.size), fill)
    if rest_rows.size:
        row_at = np.full(shape[0], -1)
        row_at[rest_rows] = np.arange(rest_rows.size)
        col_at = np.full(shape[1], -1)
        col_at[rest_cols] = np.arange(rest_cols.size)
        inside = (row_at[rows] >= 0) & (col_at[cols] >= 0)
        sub[row_at[rows[inside]], col_at[cols[inside]]] = costs[inside]
    return _join(direct, rest_rows, rest_cols, sub, thresh, shape)


def _separate(
    rows: IntArray, cols: IntArray, shape: tuple[int, ...]
) -> tuple[IntArray, IntArray, IntArray]:
    """From the admissible pairs: the pairs alone in their row and column (matched directly),
    and the rows and columns of the others (left to lap)."""
    row_degree = np.bincount(rows, minlength=shape[0])
    col_degree = np.bincount(cols, minlength=shape[1])
    alone = (row_degree[rows] == 1) & (col_degree[cols] == 1)
    direct = np.stack([rows[alone], cols[alone]], axis=1).astype(np.intp)
    # Sorted distinct rows and columns of the rest: a bincount is cheaper than np.unique's sort.
    rest = ~alone
    rest_rows = np.flatnonzero(np.bincount(rows[rest], minlength=shape[0]))
    rest_cols = np.flatnonzero(np.bincount(cols[rest], minlength=shape[1]))
    return direct, rest_rows, rest_cols


def _join(
    direct: IntArray,
    rest_rows: IntArray,
    rest_cols: IntArray,
    sub: Array,
    thresh: float,
    shape: tuple[int, ...],
) -> tuple[IntArray, IntArray, IntArray]:
    """Solve the rest's cost matrix `sub` with lap; all matches, unmatched rows and columns."""
    if rest_rows.size:
        solved, _, _ = linear_assignment(sub, thresh)
        matched = np.stack([rest_rows[solved[:, 0]], rest_cols[solved[:, 1]]], axis=1)
        matches = np.concatenate([direct, matched]).astype(np.intp)
    else:
        matches = direct
    row_free = np.ones(shape[0], bool)
    row_free[matches[:, 0]] = False
    col_free = np.ones(shape[1], bool)
    col_free[matches[:, 1]] = False
    return matches, np.flatnonzero(row_free), np.flatnonzero(col_free)


# Below this many box pairs one dense pass (a dozen numpy calls on N*M entries) is cheaper than
# the sweep's two dozen calls: at 105x50 (a 50-person frame: tracks and detections against
# detections) about half the sweep's time; at 150x75 1.4x it, at 210x100 4x.
DENSE_PAIRS = 8_000


def overlapping_pairs(boxes_a: Array, boxes_b: Array) -> tuple[IntArray, IntArray, Array]:
    """Pairs (i, j) of xyxy boxes a[i], b[j] with IoU > 0, and their IoU: `iou_matrix` without
    the zeros. Small sets are compared all at once; for large ones candidates come from a sweep
    over b sorted along one axis, so a crowd of N boxes costs about N log N plus the overlapping
    pairs instead of N^2."""
    a = np.asarray(boxes_a, np.float64)
    b = np.asarray(boxes_b, np.float64)
    if a.shape[0] == 0 or b.shape[0] == 0:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0)
    size_a = a[:, 2:] - a[:, :2]
    size_b = b[:, 2:] - b[:, :2]
    if a.shape[0] * b.shape[0] <= DENSE_PAIRS:
        across, down = _axis_overlaps(a, b)
        rows, cols = np.nonzero((across > 0) & (down > 0))
        overlap = np.stack([across[rows, cols], down[rows, cols]], axis=1)
    else:
        rows, cols = _sweep_candidates(a, b, size_b)
        pa, pb = a[rows], b[cols]
        overlap = np.minimum(pa[:, 2:], pb[:, 2:]) - np.maximum(pa[:, :2], pb[:, :2])
        np.maximum(overlap, 0.0, out=overlap)
    inter = overlap[:, 0] * overlap[:, 1]
    union = (size_a[:, 0] * size_a[:, 1])[rows] + (size_b[:, 0] * size_b[:, 1])[cols] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    keep = iou > 0
    return rows[keep].astype(np.intp), cols[keep].astype(np.intp), iou[keep]


def _sweep_candidates(a: Array, b: Array, size_b: Array) -> tuple[IntArray, IntArray]:
    """Pairs (i, j) whose boxes a[i], b[j] overlap along the sweep axis: a superset of the
    overlapping pairs, found from b sorted along that axis."""
    # Sweep along the axis where boxes are most spread out relative to their size (x in most
    # scenes, y in a tall stack of lanes): fewer candidates to check.
    extent = b[:, 2:].max(axis=0) - b[:, :2].min(axis=0)
    size = size_b.max(axis=0)
    axis = int(np.argmax(extent / np.maximum(size, 1e-9)))
    order = np.argsort(b[:, axis], kind="stable")
    start_sorted = b[order, axis]
    # b[j] can overlap a[i] only if a.start - widest < b.start < a.end along the axis.
    lo = np.searchsorted(start_sorted, a[:, axis] - size[axis], side="right")
    hi = np.searchsorted(start_sorted, a[:, axis + 2], side="left")
    counts = np.maximum(hi - lo, 0)
    rows = np.repeat(np.arange(a.shape[0]), counts)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return rows, order[starts + np.arange(rows.size)]
