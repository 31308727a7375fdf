"""Simulated walkers and detector output, to test and benchmark the tracker without a network.

Walkers move at constant velocity; half go right and half go left on shared lanes, so paths cross.
Each walker has an identity embedding; the simulated detector adds box noise, embedding noise,
misses and false positives. Ground truth comes out as MOT Challenge rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fairmot.tracking.detections import Detections

# Pedestrian boxes are roughly 0.4 times as wide as they are tall.
PERSON_ASPECT = 0.4


@dataclass(frozen=True)
class WalkerScene:
    """Ground truth: tlwh (T,K,4) boxes of K walkers over T frames, `visible` (T,K) (in the image
    and not occluded) and unit identity embeddings (K,D)."""

    tlwh: npt.NDArray[np.float64]
    visible: npt.NDArray[np.bool_]
    identities: npt.NDArray[np.float32]
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        return int(self.tlwh.shape[0])

    def gt_rows(self) -> npt.NDArray[np.float64]:
        """MOT ground-truth rows (frame, id, x, y, w, h, 1, 1, 1) of visible walkers; ids from 1."""
        frames, objects = np.nonzero(self.visible)
        rows = np.ones((len(frames), 9))
        rows[:, 0] = frames + 1
        rows[:, 1] = objects + 1
        rows[:, 2:6] = self.tlwh[frames, objects]
        return rows


def simulate_walkers(
    num_walkers: int,
    num_frames: int,
    *,
    width: int = 1920,
    height: int = 1080,
    embedding_dim: int = 128,
    occlusions: dict[int, tuple[int, int]] | None = None,
    crossing: bool = True,
    seed: int = 0,
) -> WalkerScene:
    """Walkers that all start inside the image. With `crossing`, walkers share horizontal lanes in
    pairs going opposite ways; without, each has its own lane and all go the same way.
    `occlusions` maps walker index -> [first, last) frames (0-based) it is hidden."""
    rng = np.random.default_rng(seed)
    lanes = (num_walkers + 1) // 2 if crossing else num_walkers
    lane_height = height / max(lanes, 1)
    tlwh = np.zeros((num_frames, num_walkers, 4))
    for k in range(num_walkers):
        lane = k // 2 if crossing else k
        h = (
            min(rng.uniform(0.6, 0.9) * lane_height, 300.0)
            if not crossing
            else rng.uniform(90, 150)
        )
        w = PERSON_ASPECT * h
        going_left = crossing and k % 2 == 1
        speed = rng.uniform(3.0, 8.0) * (-1.0 if going_left else 1.0)
        x0 = rng.uniform(0.55, 0.75) * width if going_left else rng.uniform(0.05, 0.25) * width
        # Centred in the lane; walkers sharing a lane overlap heavily when they pass.
        y0 = lane * lane_height + (lane_height - h) / 2 + (rng.uniform(-10, 10) if crossing else 0)
        t = np.arange(num_frames)
        tlwh[:, k, 0] = x0 + speed * t
        tlwh[:, k, 1] = y0 + rng.uniform(-0.5, 0.5) * t
        tlwh[:, k, 2] = w
        tlwh[:, k, 3] = h
    inside = (
        (tlwh[..., 0] >= 0)
        & (tlwh[..., 1] >= 0)
        & (tlwh[..., 0] + tlwh[..., 2] <= width)
        & (tlwh[..., 1] + tlwh[..., 3] <= height)
    )
    visible = inside.copy()
    for k, (first, last) in (occlusions or {}).items():
        visible[first:last, k] = False
    identities = rng.normal(size=(num_walkers, embedding_dim)).astype(np.float32)
    identities /= np.linalg.norm(identities, axis=1, keepdims=True)
    return WalkerScene(tlwh, visible, identities, width, height)


@dataclass(frozen=True)
class DetectorNoise:
    """Simulated detector errors: box jitter (fraction of the box height), embedding noise
    (standard deviation per dimension before normalisation), miss rate and false positives per
    frame (Poisson mean)."""

    box_jitter: float = 0.0
    embedding_noise: float = 0.0
    miss_rate: float = 0.0
    false_positives: float = 0.0


def detect(
    scene: WalkerScene,
    frame: int,
    noise: DetectorNoise,
    rng: np.random.Generator,
    *,
    identity_embeddings: bool = True,
) -> Detections:
    """Simulated detections of 0-based `frame`. Without identity embeddings all detections share
    one embedding (appearance carries no information)."""
    objects = np.flatnonzero(scene.visible[frame])
    if noise.miss_rate > 0:
        objects = objects[rng.random(len(objects)) >= noise.miss_rate]
    tlwh = scene.tlwh[frame, objects].copy()
    if noise.box_jitter > 0:
        tlwh += rng.normal(size=tlwh.shape) * noise.box_jitter * tlwh[:, 3:4]
        tlwh[:, 2:] = np.maximum(tlwh[:, 2:], 2.0)
    dim = scene.identities.shape[1]
    embeddings = scene.identities[objects].astype(np.float64)
    n_fp = int(rng.poisson(noise.false_positives)) if noise.false_positives > 0 else 0
    if n_fp:
        h = rng.uniform(60, 160, size=n_fp)
        fp = np.stack(
            [
                rng.uniform(0, scene.width - 70, n_fp),
                rng.uniform(0, scene.height - 170, n_fp),
                PERSON_ASPECT * h,
                h,
            ],
            axis=1,
        )
        tlwh = np.concatenate([tlwh, fp])
        embeddings = np.concatenate([embeddings, rng.normal(size=(n_fp, dim))])
    if noise.embedding_noise > 0:
        embeddings = embeddings + rng.normal(size=embeddings.shape) * noise.embedding_noise
    if not identity_embeddings:
        embeddings = np.ones_like(embeddings)
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    boxes = np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)
    scores = np.clip(rng.uniform(0.6, 1.0, size=len(boxes)), 0, 1) if len(boxes) else np.zeros(0)
    return Detections(
        boxes.astype(np.float32), scores.astype(np.float32), embeddings.astype(np.float32)
    )


def tracks_to_rows(
    frame: int, tracks: list[tuple[int, npt.NDArray[np.float64], float]]
) -> list[list[float]]:
    """MOT result rows (frame, id, x, y, w, h, score) for 1-based `frame` from (id, tlwh, score)."""
    return [[frame, track_id, *tlwh.tolist(), score] for track_id, tlwh, score in tracks]
