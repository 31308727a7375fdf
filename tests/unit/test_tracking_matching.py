"""Cost matrices and thresholded assignment."""

import numpy as np

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
