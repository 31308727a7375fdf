"""Training augmentation on letterboxed images and their boxes: HSV jitter, affine, flip.

Boxes are amodal, as in the reference and in MOT ground truth: a warp may push part of a person
out of the image and the box keeps its full extent (only the heatmap centre is clipped, in
targets.py). Boxes entirely outside the image, too small, shrunk too much or too elongated by the
warp are dropped by the reference's rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fairmot.letterbox import PAD_VALUE


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges and box rules; the defaults are the reference's (src/lib/datasets/dataset/jde.py)."""

    hsv_fraction: float = 0.5  # saturation and value scaled by 1 +- this
    degrees: float = 5.0
    translate: float = 0.1  # fraction of the input size
    scale: tuple[float, float] = (0.5, 1.2)
    shear: float = 2.0  # degrees
    flip: float = 0.5  # probability of a horizontal flip
    min_size: float = 4.0  # boxes this narrow or low (input px) after the warp are dropped
    min_area_ratio: float = 0.1  # ... or whose area shrank below this share of the original
    max_aspect: float = 10.0  # ... or whose long side exceeds this many short sides

    def __post_init__(self) -> None:
        low, high = self.scale
        if not 0 < low <= high:
            raise ValueError(f"augmentation scale range must be 0 < min <= max, got {self.scale}")
        if not 0 <= self.flip <= 1:
            raise ValueError(f"augmentation flip probability must be in [0, 1], got {self.flip}")


def hsv_jitter(image: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Scale saturation and value by random factors in [1-fraction, 1+fraction]."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    for channel in (1, 2):
        gain = 1.0 + rng.uniform(-fraction, fraction)
        lut = np.clip(np.arange(256) * gain, 0, 255).astype(np.uint8)
        hsv[..., channel] = cv2.LUT(hsv[..., channel], lut)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def affine_matrix(
    w: int, h: int, rng: np.random.Generator, cfg: AugmentConfig
) -> tuple[np.ndarray, float]:
    """A random 3x3 warp (rotation and scale about the centre, then shift, then shear) and its
    rotation angle in degrees."""
    angle = rng.uniform(-cfg.degrees, cfg.degrees)
    scale = rng.uniform(*cfg.scale)
    rot = np.eye(3)
    rot[:2] = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    shift = np.eye(3)
    shift[0, 2] = rng.uniform(-cfg.translate, cfg.translate) * w
    shift[1, 2] = rng.uniform(-cfg.translate, cfg.translate) * h
    shear = np.eye(3)
    shear[0, 1] = math.tan(math.radians(rng.uniform(-cfg.shear, cfg.shear)))
    shear[1, 0] = math.tan(math.radians(rng.uniform(-cfg.shear, cfg.shear)))
    return shear @ shift @ rot, angle


def warp_boxes(
    boxes: np.ndarray, m: np.ndarray, angle: float, w: int, h: int, cfg: AugmentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(N,4) xyxy boxes through the warp `m`: the amodal boxes kept and their indices."""
    corners = boxes[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)  # 4 corners per box
    moved = (np.c_[corners, np.ones(len(corners))] @ m[:2].T).reshape(-1, 4, 2)
    xy = np.c_[
        moved[..., 0].min(1), moved[..., 1].min(1), moved[..., 0].max(1), moved[..., 1].max(1)
    ]
    # The corners of a rotated box overestimate the person: the reference's angle-based shrink.
    radians = math.radians(angle)
    reduction = max(abs(math.sin(radians)), abs(math.cos(radians))) ** 0.5
    cx, cy = (xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2
    bw = (xy[:, 2] - xy[:, 0]) * reduction
    bh = (xy[:, 3] - xy[:, 1]) * reduction
    xy = np.c_[cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
    area0 = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    aspect = np.maximum(bw / (bh + 1e-16), bh / (bw + 1e-16))
    keep = (
        (bw > cfg.min_size)
        & (bh > cfg.min_size)
        & (bw * bh / (area0 + 1e-16) > cfg.min_area_ratio)
        & (aspect < cfg.max_aspect)
        & visible(xy, w, h)
    )
    index = np.nonzero(keep)[0]
    return xy[index].astype(np.float32), index


def visible(boxes: np.ndarray, w: int, h: int) -> np.ndarray:
    """Which (N,4) xyxy boxes overlap the w x h image at all (amodal boxes may reach past it)."""
    return (boxes[:, 0] < w) & (boxes[:, 2] > 0) & (boxes[:, 1] < h) & (boxes[:, 3] > 0)


def random_affine(
    image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp image and (N,4) xyxy boxes; returns image, boxes and the indices of kept boxes."""
    h, w = image.shape[:2]
    m, angle = affine_matrix(w, h, rng, cfg)
    warped = cv2.warpAffine(
        image, m[:2], (w, h), flags=cv2.INTER_LINEAR, borderValue=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    if len(boxes) == 0:
        return warped, boxes.reshape(0, 4), np.zeros(0, np.int64)
    xy, keep = warp_boxes(boxes, m, angle, w, h, cfg)
    return warped, xy, keep


def hflip(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = image.shape[1]
    flipped = boxes.copy()
    flipped[:, [0, 2]] = w - boxes[:, [2, 0]]
    return np.ascontiguousarray(image[:, ::-1]), flipped
