"""Turn the network's head outputs into detections in original-image pixels.

As the paper: sigmoid heatmap, 3x3 max-pool peak picking (a cheap non-maximum suppression),
top-K centres, the centre refined by the offset head, ltrb box sides from the wh head, all at
the output stride; embeddings read at the peaks and L2-normalised. Boxes are mapped back through
the letterbox transform of each image.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from fairmot.letterbox import Letterbox
from fairmot.tracking import Detections

# The reference keeps at most 500 centres per image before thresholding (opt.K).
DEFAULT_TOP_K = 500
# The network predicts at a quarter of the input resolution.
DEFAULT_DOWN_RATIO = 4
# Score threshold the reference tracker keeps detections at (opt.conf_thres).
DEFAULT_CONF_THRES = 0.4
# 3x3 max-pool window of CenterNet's peak extraction.
PEAK_KERNEL = 3


@dataclass(frozen=True)
class RawDetections:
    """Top-K candidates per image in network-input pixels, before any threshold.

    boxes (B,K,4) xyxy; scores (B,K); classes (B,K); embeddings (B,K,D) unit length.
    """

    boxes: Tensor
    scores: Tensor
    classes: Tensor
    embeddings: Tensor


def heatmap_peaks(heat: Tensor) -> Tensor:
    """Zero every heatmap value that is not the maximum of its 3x3 neighbourhood."""
    return heat * (_window_max(heat, PEAK_KERNEL) == heat).float()


def _window_max(heat: Tensor, size: int) -> Tensor:
    """The 3x3 max-pool of CenterNet (stride 1, same size), exactly, as two separable passes
    of elementwise maxima: ~10x faster than F.max_pool2d on a CPU for a one-class heatmap."""
    r = size // 2
    h, w = heat.shape[-2:]
    padded = F.pad(heat, (r, r, r, r), value=float("-inf"))
    rows = functools.reduce(torch.maximum, (padded[..., i : i + w] for i in range(size)))
    return functools.reduce(torch.maximum, (rows[..., j : j + h, :] for j in range(size)))


@torch.no_grad()
def decode_raw(
    outputs: dict[str, Tensor],
    *,
    top_k: int = DEFAULT_TOP_K,
    down_ratio: int = DEFAULT_DOWN_RATIO,
) -> RawDetections:
    """The top-K centres over all classes of each image, boxes in network-input pixels."""
    peaks = _top_peaks(outputs, top_k, down_ratio)
    embeddings = _embeddings_at(outputs["id"], peaks.pixel)
    return RawDetections(
        boxes=peaks.boxes, scores=peaks.scores, classes=peaks.classes, embeddings=embeddings
    )


def _at_peaks(feat: Tensor, pixel: Tensor) -> Tensor:
    """(B,D,H,W) features read at (B,K) flat pixel indices -> (B,K,D)."""
    b, d = feat.shape[:2]
    return (
        feat.float()
        .reshape(b, d, -1)
        .gather(2, pixel.unsqueeze(1).expand(-1, d, -1))
        .permute(0, 2, 1)
    )


def _embeddings_at(feat: Tensor, pixel: Tensor) -> Tensor:
    return F.normalize(_at_peaks(feat, pixel), dim=2)


@dataclass(frozen=True)
class _Peaks:
    """RawDetections before reading embeddings: boxes (B,K,4), scores, classes and the flat
    heatmap index of each peak (B,K)."""

    boxes: Tensor
    scores: Tensor
    classes: Tensor
    pixel: Tensor


def _top_peaks(outputs: dict[str, Tensor], top_k: int, down_ratio: int) -> _Peaks:
    """The top-K peaks of each image, boxes in network-input pixels."""
    heat = heatmap_peaks(outputs["hm"].float().sigmoid())
    b, c, h, w = heat.shape
    k = min(top_k, c * h * w)
    scores, flat = heat.reshape(b, -1).topk(k)
    classes = flat // (h * w)
    pixel = flat % (h * w)
    ys = (pixel // w).float()
    xs = (pixel % w).float()
    reg = _at_peaks(outputs["reg"], pixel)
    # Box sides are distances: a barely trained head can predict negative ones.
    wh = _at_peaks(outputs["wh"], pixel).clamp(min=0)
    cx = xs + reg[..., 0]
    cy = ys + reg[..., 1]
    boxes = torch.stack(
        [cx - wh[..., 0], cy - wh[..., 1], cx + wh[..., 2], cy + wh[..., 3]], dim=2
    ) * float(down_ratio)
    return _Peaks(boxes=boxes, scores=scores, classes=classes, pixel=pixel)


@torch.no_grad()
def decode(
    outputs: dict[str, Tensor],
    letterboxes: Sequence[Letterbox],
    *,
    conf_thres: float = DEFAULT_CONF_THRES,
    top_k: int = DEFAULT_TOP_K,
    down_ratio: int = DEFAULT_DOWN_RATIO,
) -> list[Detections]:
    """One Detections per image: boxes in original pixels, score > conf_thres, unit embeddings,
    class ids (heatmap channels)."""
    raw = _top_peaks(outputs, top_k, down_ratio)
    if len(letterboxes) != raw.scores.shape[0]:
        raise ValueError(
            f"{len(letterboxes)} letterboxes for a batch of {raw.scores.shape[0]} images"
        )
    result = []
    for i, box_transform in enumerate(letterboxes):
        keep = raw.scores[i] > conf_thres
        boxes = raw.boxes[i][keep].cpu().numpy().astype(np.float32)
        boxes = np.asarray(box_transform.to_original(boxes), dtype=np.float32).reshape(-1, 4)
        # Embeddings of the kept peaks only: reading all K costs ~2 ms a frame on a CPU.
        embeddings = _embeddings_at(outputs["id"][i : i + 1], raw.pixel[i : i + 1, keep])[0]
        result.append(
            Detections(
                boxes=boxes,
                scores=raw.scores[i][keep].cpu().numpy().astype(np.float32),
                embeddings=embeddings.cpu().numpy().astype(np.float32),
                # The heatmap channel of each peak: its class, so each class gets its own tracks.
                class_ids=raw.classes[i][keep].cpu().numpy().astype(np.int64),
            )
        )
    return result
