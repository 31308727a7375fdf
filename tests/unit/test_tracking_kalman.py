"""Kalman filter: hand-computed values for initiate, predict, update and gating."""

import numpy as np
import pytest

from fairmot.tracking import KalmanFilter

MEASUREMENT = np.array([100.0, 200.0, 0.5, 100.0])  # cx, cy, aspect, h


def test_initiate_sets_position_and_height_relative_variances():
    mean, cov = KalmanFilter().initiate(MEASUREMENT)
    np.testing.assert_allclose(mean, [100, 200, 0.5, 100, 0, 0, 0, 0])
    # std: 2/20*h = 10 for positions, 1e-2 aspect, 10/160*h = 6.25 for velocities, 1e-5.
    np.testing.assert_allclose(
        np.diag(cov), [100, 100, 1e-4, 100, 39.0625, 39.0625, 1e-10, 39.0625]
    )
    assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 0


def test_predict_moves_by_velocity_and_grows_covariance():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    mean[4] = 3.0  # vx
    mean, cov = kf.predict(mean, cov)
    assert mean[0] == pytest.approx(103.0)
    # P00 + P44 (through F) + (h/20)^2 process noise.
    assert cov[0, 0] == pytest.approx(100 + 39.0625 + 25)
    assert cov[0, 4] == pytest.approx(39.0625)
    assert cov[4, 4] == pytest.approx(39.0625 + (100 / 160) ** 2)


def test_update_blends_prediction_and_measurement_by_their_variances():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    mean, cov = kf.predict(mean, cov)
    new_mean, new_cov = kf.update(mean, cov, [110.0, 200.0, 0.5, 100.0])
    s = 164.0625 + 25.0  # innovation variance of cx: predicted + (h/20)^2 measurement noise
    assert new_mean[0] == pytest.approx(100 + 10 * 164.0625 / s)
    assert new_mean[4] == pytest.approx(10 * 39.0625 / s)  # velocity learns from the innovation
    assert new_cov[0, 0] == pytest.approx(164.0625 - 164.0625**2 / s)


def test_gating_distance_is_squared_mahalanobis():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    d = kf.gating_distance(mean, cov, np.array([[110.0, 200.0, 0.5, 100.0], MEASUREMENT]))
    np.testing.assert_allclose(d, [100 / 125, 0.0], atol=1e-9)
    d_pos = kf.gating_distance(mean, cov, np.array([[100.0, 215.0, 0.9, 100.0]]), True)
    np.testing.assert_allclose(d_pos, [225 / 125])


def test_batched_operations_match_single_track_operations():
    kf = KalmanFilter()
    rng = np.random.default_rng(0)
    measurements = np.column_stack(
        [
            rng.uniform(0, 500, 5),
            rng.uniform(0, 500, 5),
            rng.uniform(0.3, 0.6, 5),
            rng.uniform(50, 200, 5),
        ]
    )
    means, covs = kf.multi_initiate(measurements)
    means[:, 4:6] = rng.normal(size=(5, 2))
    p_means, p_covs = kf.multi_predict(means, covs)
    u_means, u_covs = kf.multi_update(p_means, p_covs, measurements + 3)
    for i in range(5):
        m, c = kf.predict(means[i], covs[i])
        np.testing.assert_allclose(p_means[i], m)
        m, c = kf.update(m, c, measurements[i] + 3)
        np.testing.assert_allclose(u_means[i], m)
        np.testing.assert_allclose(u_covs[i], c)


def test_xywh_filter_closed_form_equals_the_general_matrix_code():
    from fairmot.tracking.kalman import KalmanFilter, KalmanFilterXYWH

    kf = KalmanFilterXYWH()
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(0, 500, (20, 2)), rng.uniform(20, 200, (20, 2))])
    means, covs = kf.multi_initiate(boxes)
    for _ in range(3):
        fast = kf.multi_predict(means, covs)
        general = KalmanFilter.multi_predict(kf, means, covs)
        np.testing.assert_allclose(fast[0], general[0], rtol=1e-12)
        np.testing.assert_allclose(fast[1], general[1], rtol=1e-10, atol=1e-12)
        means, covs = fast
        z = means[:, :4] + rng.normal(size=(20, 4)) * 3
        fast = kf.multi_update(means, covs, z)
        general = KalmanFilter.multi_update(kf, means, covs, z)
        np.testing.assert_allclose(fast[0], general[0], rtol=1e-10)
        np.testing.assert_allclose(fast[1], general[1], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(
            kf.multi_gating_distance(means, covs, z),
            KalmanFilter.multi_gating_distance(kf, means, covs, z),
            rtol=1e-8,
        )
        means, covs = fast
