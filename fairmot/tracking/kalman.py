"""Constant-velocity Kalman filter on boxes (cx, cy, aspect, h), as in JDE/FairMOT/DeepSORT.

State is 8-d: (cx, cy, a, h) and their velocities. Process and measurement noise scale with the
box height, so large (near) boxes move more in pixels. Every operation has a batched form over N
tracks because the tracker predicts and updates all tracks of a frame at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

NDIM = 4
# Noise scales relative to the box height, from the reference (DeepSORT) filter.
STD_WEIGHT_POSITION = 1.0 / 20
STD_WEIGHT_VELOCITY = 1.0 / 160
# Aspect ratio noise is absolute, not height-relative, in the reference.
STD_ASPECT_INIT = 1e-2
STD_ASPECT_PROCESS = 1e-2
STD_ASPECT_VELOCITY_PROCESS = 1e-5
STD_ASPECT_MEASURE = 1e-1


def _motion_matrix(dt: float = 1.0) -> Array:
    motion = np.eye(2 * NDIM)
    for i in range(NDIM):
        motion[i, NDIM + i] = dt
    return motion


class KalmanFilter:
    """8-d constant-velocity Kalman filter; the measurement is (cx, cy, a, h)."""

    def __init__(self) -> None:
        self._motion = _motion_matrix()

    def _initiate_std(self, measurements: Array) -> Array:
        """Standard deviations (N,8) of a new track's state."""
        n = measurements.shape[0]
        h = measurements[:, 3]
        pos = 2 * STD_WEIGHT_POSITION * h
        vel = 10 * STD_WEIGHT_VELOCITY * h
        return np.stack(
            [pos, pos, np.full(n, STD_ASPECT_INIT), pos, vel, vel, np.full(n, 1e-5), vel], axis=1
        )

    def _process_std(self, means: Array) -> Array:
        """Standard deviations (N,8) of the process noise of one step."""
        n = means.shape[0]
        h = means[:, 3]
        pos = STD_WEIGHT_POSITION * h
        vel = STD_WEIGHT_VELOCITY * h
        aspect = np.full(n, STD_ASPECT_PROCESS)
        aspect_vel = np.full(n, STD_ASPECT_VELOCITY_PROCESS)
        return np.stack([pos, pos, aspect, pos, vel, vel, aspect_vel, vel], axis=1)

    def _measurement_std(self, means: Array) -> Array:
        """Standard deviations (N,4) of the measurement noise."""
        h = means[:, 3]
        pos = STD_WEIGHT_POSITION * h
        return np.stack([pos, pos, np.full(means.shape[0], STD_ASPECT_MEASURE), pos], axis=1)

    def initiate(self, measurement: npt.ArrayLike) -> tuple[Array, Array]:
        """Mean (8,) and covariance (8,8) of a new track from one (cx, cy, a, h) measurement."""
        means, covariances = self.multi_initiate(np.asarray(measurement, np.float64)[None, :])
        return means[0], covariances[0]

    def multi_initiate(self, measurements: Array) -> tuple[Array, Array]:
        """Batched `initiate`: measurements (N,4) -> means (N,8), covariances (N,8,8)."""
        measurements = np.asarray(measurements, np.float64)
        n = measurements.shape[0]
        means = np.concatenate([measurements, np.zeros((n, NDIM))], axis=1)
        std = self._initiate_std(measurements)
        covariances = np.zeros((n, 2 * NDIM, 2 * NDIM))
        idx = np.arange(2 * NDIM)
        covariances[:, idx, idx] = std**2
        return means, covariances

    def predict(self, mean: Array, covariance: Array) -> tuple[Array, Array]:
        """One time step ahead for a single track."""
        means, covariances = self.multi_predict(mean[None, :], covariance[None, :, :])
        return means[0], covariances[0]

    def multi_predict(self, means: Array, covariances: Array) -> tuple[Array, Array]:
        """Batched prediction: means (N,8), covariances (N,8,8)."""
        std = self._process_std(means)
        new_means = means @ self._motion.T
        new_covariances = self._motion @ covariances @ self._motion.T
        idx = np.arange(2 * NDIM)
        new_covariances[:, idx, idx] += std**2
        return new_means, new_covariances

    def multi_project(self, means: Array, covariances: Array) -> tuple[Array, Array]:
        """Batched projection to measurement space: (N,4) means and (N,4,4) innovation covariances."""
        std = self._measurement_std(means)
        projected = covariances[:, :NDIM, :NDIM].copy()
        idx = np.arange(NDIM)
        projected[:, idx, idx] += std**2
        return means[:, :NDIM].copy(), projected

    def project(self, mean: Array, covariance: Array) -> tuple[Array, Array]:
        """Projection of one track to measurement space."""
        means, covariances = self.multi_project(mean[None, :], covariance[None, :, :])
        return means[0], covariances[0]

    def update(
        self, mean: Array, covariance: Array, measurement: npt.ArrayLike
    ) -> tuple[Array, Array]:
        """Correct one track with one (cx, cy, a, h) measurement."""
        means, covariances = self.multi_update(
            mean[None, :], covariance[None, :, :], np.asarray(measurement, np.float64)[None, :]
        )
        return means[0], covariances[0]

    def multi_update(
        self, means: Array, covariances: Array, measurements: Array
    ) -> tuple[Array, Array]:
        """Batched correction: track i is corrected with measurement i."""
        projected_means, projected_covs = self.multi_project(means, covariances)
        # Gain K = P H^T S^-1; H selects the first 4 state entries, so P H^T = P[:, :, :4].
        cross = covariances[:, :, :NDIM]
        gain = np.linalg.solve(projected_covs, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
        innovation = np.asarray(measurements, np.float64) - projected_means
        new_means = means + np.einsum("nij,nj->ni", gain, innovation)
        new_covariances = covariances - gain @ projected_covs @ gain.transpose(0, 2, 1)
        return new_means, new_covariances

    def gating_distance(
        self, mean: Array, covariance: Array, measurements: Array, only_position: bool = False
    ) -> Array:
        """Squared Mahalanobis distance (M,) from one track to measurements (M,4)."""
        return self.multi_gating_distance(
            mean[None, :], covariance[None, :, :], measurements, only_position
        )[0]

    def multi_gating_distance(
        self, means: Array, covariances: Array, measurements: Array, only_position: bool = False
    ) -> Array:
        """Squared Mahalanobis distances (N,M) from N tracks to M measurements (M,4)."""
        projected_means, projected_covs = self.multi_project(means, covariances)
        dims = 2 if only_position else NDIM
        diff = (
            np.asarray(measurements, np.float64)[None, :, :dims] - projected_means[:, None, :dims]
        )
        # One 4x4 inverse per track, then a batched quadratic form: 5x faster than solving for
        # every (track, measurement) pair at 200x200; S is a well-conditioned SPD matrix.
        inverse = np.linalg.inv(projected_covs[:, :dims, :dims])
        return np.einsum("nmi,nmi->nm", diff @ inverse, diff)


_POS = np.arange(NDIM)
_VEL = _POS + NDIM


def to_blocks(covariances: Array) -> Array:
    """(N,8,8) covariances of the xywh filter -> (N,12) blocks: the 4 position variances, the 4
    position-velocity covariances and the 4 velocity variances (every other entry is 0)."""
    return np.concatenate(
        [covariances[:, _POS, _POS], covariances[:, _POS, _VEL], covariances[:, _VEL, _VEL]],
        axis=1,
    )


def from_blocks(blocks: Array) -> Array:
    """(N,12) blocks -> (N,8,8) covariances: the inverse of `to_blocks`."""
    p, c, v = blocks[:, :NDIM], blocks[:, NDIM : 2 * NDIM], blocks[:, 2 * NDIM :]
    out = np.zeros((blocks.shape[0], 2 * NDIM, 2 * NDIM))
    out[:, _POS, _POS] = p
    out[:, _POS, _VEL] = c
    out[:, _VEL, _POS] = c
    out[:, _VEL, _VEL] = v
    return out


class KalmanFilterXYWH(KalmanFilter):
    """The same filter on (cx, cy, w, h), as BoT-SORT has it: width gets its own velocity and
    height-relative noise instead of an aspect ratio with absolute noise, so boxes whose width
    changes (people turning, partial occlusion) are followed rather than fought.

    With diagonal noise every coordinate evolves on its own (its position and velocity), so the
    covariance stays four 2x2 blocks: the `*_blocks` methods keep it as (N,12) rows (`to_blocks`)
    and work on them in closed form, the same numbers as the general matrix code at a fraction of
    its cost in crowds; the tracker holds its state in that form. The (N,8,8) methods wrap them."""

    def initiate_blocks(self, measurements: Array) -> tuple[Array, Array]:
        """Means (N,8) and covariance blocks (N,12) of new tracks from (cx, cy, w, h) rows."""
        measurements = np.asarray(measurements, np.float64)
        means = np.concatenate([measurements, np.zeros_like(measurements)], axis=1)
        std = self._initiate_std(measurements)
        blocks = np.zeros((measurements.shape[0], 3 * NDIM))
        blocks[:, :NDIM] = std[:, :NDIM] ** 2
        blocks[:, 2 * NDIM :] = std[:, NDIM:] ** 2
        return means, blocks

    def predict_blocks(self, means: Array, blocks: Array) -> tuple[Array, Array]:
        """One time step ahead for every track, in block form."""
        variance = self._process_std(means) ** 2
        p, c, v = blocks[:, :NDIM], blocks[:, NDIM : 2 * NDIM], blocks[:, 2 * NDIM :]
        new_means = means.copy()
        new_means[:, :NDIM] += means[:, NDIM:]
        new_blocks = np.concatenate(
            [p + 2 * c + v + variance[:, :NDIM], c + v, v + variance[:, NDIM:]], axis=1
        )
        return new_means, new_blocks

    def update_blocks(
        self, means: Array, blocks: Array, measurements: Array
    ) -> tuple[Array, Array]:
        """Track i corrected with measurement i, in block form."""
        p, c, v = blocks[:, :NDIM], blocks[:, NDIM : 2 * NDIM], blocks[:, 2 * NDIM :]
        innovation_var = p + self._measurement_std(means) ** 2
        gain_pos, gain_vel = p / innovation_var, c / innovation_var
        innovation = np.asarray(measurements, np.float64) - means[:, :NDIM]
        new_means = means.copy()
        new_means[:, :NDIM] += gain_pos * innovation
        new_means[:, NDIM:] += gain_vel * innovation
        new_blocks = np.concatenate([p - gain_pos * p, c - gain_pos * c, v - gain_vel * c], axis=1)
        return new_means, new_blocks

    def gating_blocks(
        self, means: Array, blocks: Array, measurements: Array, only_position: bool = False
    ) -> Array:
        """Squared Mahalanobis distances (N,M) from N tracks to M measurements, in block form."""
        dims = 2 if only_position else NDIM
        innovation_var = blocks[:, :NDIM] + self._measurement_std(means) ** 2
        diff = np.asarray(measurements, np.float64)[None, :, :dims] - means[:, None, :dims]
        return np.einsum("nmi,ni->nm", diff**2, 1.0 / innovation_var[:, :dims])

    def multi_initiate(self, measurements: Array) -> tuple[Array, Array]:
        means, blocks = self.initiate_blocks(measurements)
        return means, from_blocks(blocks)

    def multi_predict(self, means: Array, covariances: Array) -> tuple[Array, Array]:
        new_means, blocks = self.predict_blocks(means, to_blocks(covariances))
        return new_means, from_blocks(blocks)

    def multi_update(
        self, means: Array, covariances: Array, measurements: Array
    ) -> tuple[Array, Array]:
        new_means, blocks = self.update_blocks(means, to_blocks(covariances), measurements)
        return new_means, from_blocks(blocks)

    def multi_gating_distance(
        self, means: Array, covariances: Array, measurements: Array, only_position: bool = False
    ) -> Array:
        return self.gating_blocks(means, to_blocks(covariances), measurements, only_position)

    def _initiate_std(self, measurements: Array) -> Array:
        wh = np.concatenate([measurements[:, 2:4], measurements[:, 2:4]], axis=1)
        return np.concatenate([2 * STD_WEIGHT_POSITION * wh, 10 * STD_WEIGHT_VELOCITY * wh], axis=1)

    def _process_std(self, means: Array) -> Array:
        wh = np.concatenate([means[:, 2:4], means[:, 2:4]], axis=1)
        return np.concatenate([STD_WEIGHT_POSITION * wh, STD_WEIGHT_VELOCITY * wh], axis=1)

    def _measurement_std(self, means: Array) -> Array:
        return STD_WEIGHT_POSITION * np.concatenate([means[:, 2:4], means[:, 2:4]], axis=1)
