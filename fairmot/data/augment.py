"""Training augmentation on letterboxed images and their boxes: HSV jitter, affine, flip."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fairmot.letterbox import PAD_VALUE


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges; the reference uses HSV 0.5, rotation 5 deg, scale 0.5-1.2, shear 2 deg.

    Our defaults shrink less (a small CPU model at low resolution loses tiny people) and rotate
    less (rotated boxes stop being tight).
    """

    hsv_fraction: float = 0.5  # saturation and value scaled by 1 +- this
    degrees: float = 2.0
    translate: float = 0.1  # fraction of the input size
    scale: tuple[float, float] = (0.75, 1.25)
    shear: float = 2.0  # degrees
    flip: float = 0.5  # probability of a horizontal flip
    min_size: float = 2.0  # boxes narrower or lower than this (input px) after the warp are dropped


def hsv_jitter(image: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Scale saturation and value by random factors in [1-fraction, 1+fraction]."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    for channel in (1, 2):
        gain = 1.0 + rng.uniform(-fraction, fraction)
        lut = np.clip(np.arange(256) * gain, 0, 255).astype(np.uint8)
        hsv[..., channel] = cv2.LUT(hsv[..., channel], lut)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def random_affine(
    image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp image and (N,4) xyxy boxes; returns image, boxes and the indices of kept boxes."""
    h, w = image.shape[:2]
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
    m = shear @ shift @ rot
    warped = cv2.warpAffine(
        image, m[:2], (w, h), flags=cv2.INTER_LINEAR, borderValue=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    if len(boxes) == 0:
        return warped, boxes.reshape(0, 4), np.zeros(0, np.int64)
    corners = boxes[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)  # 4 corners per box
    moved = (np.c_[corners, np.ones(len(corners))] @ m[:2].T).reshape(-1, 4, 2)
    xy = np.c_[
        moved[..., 0].min(1), moved[..., 1].min(1), moved[..., 0].max(1), moved[..., 1].max(1)
    ]
    # The corners of a rotated box overestimate the person; shrink back towards the box's own size.
    cx, cy = (xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2
    bw = (boxes[:, 2] - boxes[:, 0]) * scale
    bh = (boxes[:, 3] - boxes[:, 1]) * scale
    bw = np.minimum(bw, xy[:, 2] - xy[:, 0])
    bh = np.minimum(bh, xy[:, 3] - xy[:, 1])
    xy = np.c_[cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
    xy[:, [0, 2]] = xy[:, [0, 2]].clip(0, w)
    xy[:, [1, 3]] = xy[:, [1, 3]].clip(0, h)
    keep = np.nonzero(
        ((xy[:, 2] - xy[:, 0]) > cfg.min_size) & ((xy[:, 3] - xy[:, 1]) > cfg.min_size)
    )[0]
    return warped, xy[keep].astype(np.float32), keep


def hflip(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = image.shape[1]
    flipped = boxes.copy()
    flipped[:, [0, 2]] = w - boxes[:, [2, 0]]
    return np.ascontiguousarray(image[:, ::-1]), flipped
