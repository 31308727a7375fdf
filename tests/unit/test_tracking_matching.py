"""Cost matrices and thresholded assignment."""

import numpy as np
import pytest

from fairmot.tracking import KalmanFilter
from fairmot.tracking.matching import (
    embedding_distance,
    fuse_motion,
    iou_distance,
    iou_matrix,
    linear_assignment,
)


def test_iou_of_half_overlapping_boxes_is_one_third():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]], float)
    np.testing.assert_allclose(iou_matrix(a, b), [[1 / 3, 0, 1]])
    np.testing.assert_allclose(iou_distance(a, b), [[2 / 3, 1, 0]])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (1, 0)


def test_embedding_distance_is_cosine_distance():
    e = np.eye(3)
    d = embedding_distance(e[:2] * 5.0, e)  # unnormalised rows are normalised
    np.testing.assert_allclose(d, [[0, 1, 1], [1, 0, 1]])


def test_assignment_keeps_only_pairs_under_the_threshold():
    cost = np.array([[0.1, 0.5], [0.5, 0.45]])
    matches, rows, cols = linear_assignment(cost, thresh=0.4)
    assert matches.tolist() == [[0, 0]]
    assert rows.tolist() == [1] and cols.tolist() == [1]


def test_assignment_is_a_joint_optimum_not_greedy():
    # Greedy would take (0,0)=0.1 then (1,1)=0.9 (rejected); the optimum under 0.95 pairs crosswise.
    cost = np.array([[0.1, 0.2], [0.3, 0.9]])
    matches, _, _ = linear_assignment(cost, thresh=0.95)
    assert sorted(matches.tolist()) == [[0, 1], [1, 0]]
    empty, rows, cols = linear_assignment(np.zeros((0, 3)), thresh=0.5)
    assert empty.shape == (0, 2) and rows.size == 0 and cols.tolist() == [0, 1, 2]


def test_fuse_motion_weights_embedding_and_gates_far_detections():
    kf = KalmanFilter()
    mean, cov = kf.initiate([100.0, 200.0, 0.5, 100.0])
    measurements = np.array([[110.0, 200.0, 0.5, 100.0], [400.0, 200.0, 0.5, 100.0]])
    fused = fuse_motion(
        kf, np.array([[0.2, 0.0]]), mean[None], cov[None], measurements, weight=0.98, gate=9.4877
    )
    assert fused[0, 0] == np.float64(0.98 * 0.2 + 0.02 * 0.8)
    assert np.isinf(fused[0, 1])  # identical embedding, but 300 px away: gated out


def _matching_cost(cost, matches, thresh):
    # lap's extended problem: each unmatched row or column costs thresh / 2.
    unmatched = cost.shape[0] + cost.shape[1] - 2 * len(matches)
    return sum(cost[i, j] for i, j in matches) + thresh / 2 * unmatched


def random_sparse_costs(rng, count=300):
    """Cost matrices up to 24x24 with a random share of pairs ruled out (inf)."""
    for _ in range(count):
        n, m = rng.integers(0, 25, 2)
        cost = rng.random((n, m))
        cost[rng.random((n, m)) < rng.random()] = np.inf
        yield cost


def test_sparse_linear_assignment_finds_the_same_optimum_as_lap_on_the_full_matrix():
    from fairmot.tracking.matching import sparse_linear_assignment

    for cost in random_sparse_costs(np.random.default_rng(0)):
        n, m = cost.shape
        full = linear_assignment(cost, 0.5)
        sparse = sparse_linear_assignment(cost, 0.5)
        assert np.isclose(_matching_cost(cost, sparse[0], 0.5), _matching_cost(cost, full[0], 0.5))
        assert (cost[sparse[0][:, 0], sparse[0][:, 1]] <= 0.5).all()
        assert len(sparse[0]) + len(sparse[1]) == n and len(sparse[0]) + len(sparse[2]) == m


def test_pair_linear_assignment_equals_the_dense_one_on_the_listed_pairs():
    from fairmot.tracking.matching import pair_linear_assignment, sparse_linear_assignment

    for cost in random_sparse_costs(np.random.default_rng(2)):
        n, m = cost.shape
        rows, cols = np.nonzero(np.isfinite(cost))
        pairs = pair_linear_assignment(rows, cols, cost[rows, cols], (n, m), 0.5)
        dense = sparse_linear_assignment(cost, 0.5)
        for got, want in zip(pairs, dense, strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dense_pairs", [0, 10**9], ids=["sweep", "dense"])
def test_overlapping_pairs_are_the_nonzero_entries_of_the_iou_matrix(dense_pairs, monkeypatch):
    from fairmot.tracking import matching
    from fairmot.tracking.matching import iou_matrix, overlapping_pairs

    monkeypatch.setattr(matching, "DENSE_PAIRS", dense_pairs)
    rng = np.random.default_rng(1)
    for _ in range(200):
        n, m = rng.integers(0, 30, 2)
        stretch = np.array([1.0, rng.uniform(0.1, 10)])  # sweeps along x or y

        def boxes(k, stretch=stretch):
            xy = rng.uniform(0, 500, (k, 2)) * stretch
            return np.concatenate([xy, xy + rng.uniform(1, 120, (k, 2))], axis=1)

        a, b = boxes(n), boxes(m)
        rows, cols, iou = overlapping_pairs(a, b)
        dense = np.zeros((n, m))
        dense[rows, cols] = iou
        np.testing.assert_allclose(dense, iou_matrix(a, b))
        assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == len(rows)
