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


@dataclass(frozen=True, kw_only=True)
class CrowdScene(WalkerScene):
    """A crowded scene: `visibility` (T,K) is the fraction of each box not covered by people in
    front of it or by static occluders, `occluder` (T,K) the index of the person covering most of
    it (-1: none or a static occluder) and `appearance` (T,K,D) the identity embedding as it has
    drifted by each frame. `visible` marks boxes in the image with visibility >= MIN_VISIBILITY."""

    visibility: npt.NDArray[np.float64]
    occluder: npt.NDArray[np.intp]
    appearance: npt.NDArray[np.float32]
    ghosts: npt.NDArray[np.float64]

    def gt_rows(self) -> npt.NDArray[np.float64]:
        """MOT ground-truth rows with the visibility column filled in."""
        rows = super().gt_rows()
        frames, objects = np.nonzero(self.visible)
        rows[:, 8] = self.visibility[frames, objects]
        return rows


Array2 = npt.NDArray[np.float64]
# People less visible than this are not in the ground truth (nobody could detect them).
MIN_VISIBILITY = 0.1
# People wear a few kinds of clothes: identities are drawn around this many appearance clusters,
# so distinct people can look alike.
APPEARANCE_CLUSTERS = 6


def _coverage(tlwh: npt.NDArray[np.float64], blockers: npt.NDArray[np.float64]) -> Array2:
    """Fraction (N,M) of each box in `tlwh` (N,4) covered by each box in `blockers` (M,4)."""
    x1 = np.maximum(tlwh[:, None, 0], blockers[None, :, 0])
    y1 = np.maximum(tlwh[:, None, 1], blockers[None, :, 1])
    x2 = np.minimum(
        tlwh[:, None, 0] + tlwh[:, None, 2], blockers[None, :, 0] + blockers[None, :, 2]
    )
    y2 = np.minimum(
        tlwh[:, None, 1] + tlwh[:, None, 3], blockers[None, :, 1] + blockers[None, :, 3]
    )
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / np.maximum(tlwh[:, None, 2] * tlwh[:, None, 3], 1e-9)


def simulate_crowd(
    num_people: int = 30,
    num_frames: int = 300,
    *,
    width: int = 1920,
    height: int = 1080,
    embedding_dim: int = 128,
    static_occluders: int = 2,
    ghosts: int = 3,
    appearance_drift: float = 0.04,
    seed: int = 0,
) -> CrowdScene:
    """A crowded pedestrian scene as a fixed camera sees it: people enter from the edges or start
    inside, walk with changing headings and speeds, stop now and then, and are bigger lower in the
    image (perspective). People lower in the image hide those behind them; static occluders
    (pillars) hide whoever passes behind. Each identity embedding drifts by a random walk of
    `appearance_drift` per dimension and frame (pose, light)."""
    rng = np.random.default_rng(seed)
    tlwh = np.zeros((num_frames, num_people, 4))
    horizon = 0.25 * height
    for k in range(num_people):
        start = 0 if rng.random() < 0.6 else int(rng.integers(0, max(num_frames - 30, 1)))
        if start == 0:
            pos = np.array([rng.uniform(0.05, 0.95) * width, rng.uniform(0.35, 0.95) * height])
        else:  # enters from the left or right edge
            left = rng.random() < 0.5
            pos = np.array([-20.0 if left else width + 20.0, rng.uniform(0.35, 0.95) * height])
        heading = rng.uniform(-np.pi, np.pi) if start == 0 else (0.0 if pos[0] < 0 else np.pi)
        speed = rng.uniform(1.0, 4.0)
        for t in range(num_frames):
            if t < start:
                tlwh[t, k] = np.nan
                continue
            heading += rng.normal(0, 0.04)
            if rng.random() < 0.01:  # start or stop walking
                speed = 0.0 if speed > 0 else rng.uniform(1.0, 4.0)
            # Perspective: height grows linearly from the horizon to the bottom of the image.
            h = 60 + 200 * (pos[1] - horizon) / (height - horizon)
            step = np.array([np.cos(heading), 0.35 * np.sin(heading)]) * speed * h / 150
            pos = pos + step
            # Walkers turn back into the walkable band instead of leaving it vertically.
            if not 0.32 * height < pos[1] < 0.98 * height:
                heading = -heading
                pos[1] = np.clip(pos[1], 0.32 * height, 0.98 * height)
            w = PERSON_ASPECT * h * rng.uniform(0.97, 1.03)
            tlwh[t, k] = [pos[0] - w / 2, pos[1] - h, w, h]
    present = ~np.isnan(tlwh[..., 0])
    tlwh = np.nan_to_num(tlwh, nan=-1e4)
    inside = (
        present
        & (tlwh[..., 0] >= -0.2 * tlwh[..., 2])
        & (tlwh[..., 0] + 0.8 * tlwh[..., 2] <= width)
    )
    pillars = np.array(
        [
            [rng.uniform(0.15, 0.85) * width, 0.2 * height, rng.uniform(60, 120), 0.75 * height]
            for _ in range(static_occluders)
        ]
    ).reshape(-1, 4)
    ghost_h = rng.uniform(80, 200, ghosts)
    ghost_boxes = np.stack(
        [
            rng.uniform(0.05, 0.9, ghosts) * width,
            rng.uniform(0.35, 0.75, ghosts) * height,
            PERSON_ASPECT * ghost_h,
            ghost_h,
        ],
        axis=1,
    ).reshape(-1, 4)
    visibility = np.zeros((num_frames, num_people))
    occluder = np.full((num_frames, num_people), -1, np.intp)
    for t in range(num_frames):
        boxes = tlwh[t]
        cover = _coverage(boxes, boxes)
        bottom = boxes[:, 1] + boxes[:, 3]
        # Only people in front (lower bottom edge: closer to the camera) and present hide others.
        in_front = (bottom[None, :] > bottom[:, None]) & present[t][None, :]
        cover = np.where(in_front, cover, 0.0)
        hidden = np.clip(cover.sum(axis=1), 0.0, 1.0)
        if len(pillars):
            hidden = np.clip(hidden + _coverage(boxes, pillars).sum(axis=1), 0.0, 1.0)
        visibility[t] = np.where(inside[t], 1.0 - hidden, 0.0)
        occluder[t] = np.where(cover.max(axis=1) > 0.05, cover.argmax(axis=1), -1)
    visible = visibility >= MIN_VISIBILITY
    centres = rng.normal(size=(APPEARANCE_CLUSTERS, embedding_dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    base = centres[rng.integers(0, APPEARANCE_CLUSTERS, num_people)] + rng.normal(
        size=(num_people, embedding_dim)
    ) * (0.9 / np.sqrt(embedding_dim))
    drift = (
        np.cumsum(
            rng.normal(size=(num_frames, num_people, embedding_dim)) * appearance_drift, axis=0
        )
        / np.sqrt(embedding_dim)
        * 3
    )
    appearance = base[None] + drift
    appearance /= np.linalg.norm(appearance, axis=2, keepdims=True)
    identities = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
    return CrowdScene(
        tlwh,
        visible,
        identities,
        width,
        height,
        visibility=visibility,
        occluder=occluder,
        appearance=appearance.astype(np.float32),
        ghosts=ghost_boxes,
    )


@dataclass(frozen=True)
class CrowdDetectorNoise:
    """A detector in a crowd: recall and score fall with visibility, boxes of occluded people are
    noisier, embeddings of occluded people are blended with their occluder's, and false positives
    score `fp_scores` (a [low, high) range): `false_positives` a frame at random places, and each
    of the scene's ghosts in a fraction `ghost_rate` of the frames."""

    box_jitter: float = 0.04
    occluded_box_jitter: float = 0.10
    embedding_noise: float = 0.1
    false_positives: float = 3.0
    fp_scores: tuple[float, float] = (0.3, 0.65)
    max_recall: float = 0.97
    ghost_rate: float = 0.5


def detect_crowd(
    scene: CrowdScene, frame: int, noise: CrowdDetectorNoise, rng: np.random.Generator
) -> Detections:
    """Simulated detections of 0-based `frame` of a crowd scene."""
    vis = scene.visibility[frame]
    candidates = np.flatnonzero(scene.visible[frame])
    recall = np.clip(noise.max_recall * (0.25 + vis[candidates]), 0.0, noise.max_recall)
    objects = candidates[rng.random(len(candidates)) < recall]
    v = vis[objects]
    tlwh = scene.tlwh[frame, objects].copy()
    jitter = noise.box_jitter + (1.0 - v) * (noise.occluded_box_jitter - noise.box_jitter)
    tlwh += rng.normal(size=tlwh.shape) * jitter[:, None] * tlwh[:, 3:4]
    tlwh[:, 2:] = np.maximum(tlwh[:, 2:], 4.0)
    # Fully visible people score 0.6-0.95; half-hidden ones fall into BYTE's low band.
    scores = np.clip(0.1 + 0.75 * v + rng.normal(0, 0.08, len(v)), 0.05, 0.99)
    embeddings = scene.appearance[frame, objects].astype(np.float64)
    blockers = scene.occluder[frame, objects]
    hidden = blockers >= 0
    mix = (1.0 - v[hidden])[:, None]
    embeddings[hidden] = (1 - mix) * embeddings[hidden] + mix * scene.appearance[
        frame, blockers[hidden]
    ]
    dim = embeddings.shape[1]
    embeddings += rng.normal(size=embeddings.shape) * noise.embedding_noise * np.sqrt(128 / dim)
    n_fp = int(rng.poisson(noise.false_positives))
    h = rng.uniform(60, 260, size=n_fp)
    fp = np.stack(
        [
            rng.uniform(0, scene.width - 100, n_fp),
            rng.uniform(0.3 * scene.height, scene.height - h),
            PERSON_ASPECT * h,
            h,
        ],
        axis=1,
    )
    ghosts = scene.ghosts[rng.random(len(scene.ghosts)) < noise.ghost_rate]
    ghosts = ghosts + rng.normal(size=ghosts.shape) * noise.box_jitter * ghosts[:, 3:4]
    fp = np.concatenate([fp, ghosts])
    n_fp = len(fp)
    if n_fp:
        tlwh = np.concatenate([tlwh, fp])
        scores = np.concatenate([scores, rng.uniform(*noise.fp_scores, n_fp)])
        embeddings = np.concatenate([embeddings, rng.normal(size=(n_fp, dim))])
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    boxes = np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)
    return Detections(
        boxes.astype(np.float32), scores.astype(np.float32), embeddings.astype(np.float32)
    )
