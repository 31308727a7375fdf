"""Letterbox resizing: fit an image into the network input size keeping its aspect ratio.

The same transform maps labels into the input (training) and detections back to the original
image (tracking), so it is one frozen value object used by both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 127.5  # grey padding, as the reference (cv2 rounds it to 128 in uint8 images)


@dataclass(frozen=True)
class Letterbox:
    """How an image of `src_w` x `src_h` was placed into an `out_w` x `out_h` input.

    Input pixel = original pixel * scale + pad.
    """

    scale: float
    pad_x: float
    pad_y: float
    out_w: int
    out_h: int
    src_w: int
    src_h: int

    def to_original(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Map (N,4) xyxy boxes from input pixels to original pixels, not clipped: boxes are
        amodal, as the reference's and MOT ground truth (drawing clips where a picture needs it)."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - self.pad_x) / self.scale
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - self.pad_y) / self.scale
        return boxes

    def to_input(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Map (N,4) xyxy boxes from original pixels to input pixels (not clipped)."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]] * self.scale + self.pad_x
        boxes[:, [1, 3]] = boxes[:, [1, 3]] * self.scale + self.pad_y
        return boxes


def _resized_size(src_w: int, src_h: int, scale: float) -> tuple[int, int]:
    # At least one pixel: a sliver image (e.g. 4000x2 into 320x192) would round to zero.
    return max(1, round(src_w * scale)), max(1, round(src_h * scale))


def fit(src_w: int, src_h: int, out_w: int, out_h: int) -> Letterbox:
    """The letterbox transform for a source size, without touching pixels."""
    if min(src_w, src_h, out_w, out_h) <= 0:
        raise ValueError(
            f"letterbox sizes must be positive, got {src_w}x{src_h} -> {out_w}x{out_h}"
        )
    scale = min(out_w / src_w, out_h / src_h)
    new_w, new_h = _resized_size(src_w, src_h, scale)
    # Integer padding; an odd remainder goes to the right/bottom.
    pad_x = (out_w - new_w) // 2
    pad_y = (out_h - new_h) // 2
    return Letterbox(scale, float(pad_x), float(pad_y), out_w, out_h, src_w, src_h)


def letterbox(image_bgr: np.ndarray, out_w: int, out_h: int) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad with grey to (out_h, out_w, 3) uint8 BGR."""
    src_h, src_w = image_bgr.shape[:2]
    box = fit(src_w, src_h, out_w, out_h)
    new_w, new_h = _resized_size(src_w, src_h, box.scale)
    if (new_w, new_h) == (src_w, src_h):
        resized = image_bgr
    else:
        # INTER_AREA avoids aliasing when shrinking; it is slow and no better when enlarging.
        interp = cv2.INTER_AREA if box.scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=interp)
    top, left = int(box.pad_y), int(box.pad_x)
    out = cv2.copyMakeBorder(
        resized,
        top,
        out_h - new_h - top,
        left,
        out_w - new_w - left,
        cv2.BORDER_CONSTANT,
        value=(PAD_VALUE, PAD_VALUE, PAD_VALUE),
    )
    return out, box


def to_network_input(images_bgr: Sequence[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR uint8 images -> float32 (B,3,H,W), RGB, scaled to [0,1]."""
    if len(images_bgr) == 0:
        raise ValueError("to_network_input needs at least one image")
    batch = np.stack([np.asarray(im) for im in images_bgr])  # (B,H,W,3) BGR
    out = batch[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32)
    out *= 1.0 / 255.0
    return np.ascontiguousarray(out)
