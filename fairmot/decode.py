"""Turn the network's head outputs into detections in original-image pixels.

As the paper: sigmoid heatmap, 3x3 max-pool peak picking (a cheap non-maximum suppression),
top-K centres, the centre refined by the offset head, ltrb box sides from the wh head, all at
the output stride; embeddings read at the peaks and L2-normalised. Boxes are mapped back through
the letterbox transform of each image.
"""

from __future__ import annotations

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
    pooled = F.max_pool2d(heat, PEAK_KERNEL, stride=1, padding=PEAK_KERNEL // 2)
    return heat * (pooled == heat).float()


@torch.no_grad()
def decode_raw(
    outputs: dict[str, Tensor],
    *,
    top_k: int = DEFAULT_TOP_K,
    down_ratio: int = DEFAULT_DOWN_RATIO,
) -> RawDetections:
    """The top-K centres over all classes of each image, boxes in network-input pixels."""
    heat = heatmap_peaks(outputs["hm"].float().sigmoid())
    b, c, h, w = heat.shape
    k = min(top_k, c * h * w)
    scores, flat = heat.reshape(b, -1).topk(k)
    classes = flat // (h * w)
    pixel = flat % (h * w)
    ys = (pixel // w).float()
    xs = (pixel % w).float()

    def at_peaks(name: str) -> Tensor:
        feat = outputs[name].float()
        d = feat.shape[1]
        return (
            feat.reshape(b, d, -1).gather(2, pixel.unsqueeze(1).expand(-1, d, -1)).permute(0, 2, 1)
        )

    reg = at_peaks("reg")
    # Box sides are distances: a barely trained head can predict negative ones.
    wh = at_peaks("wh").clamp(min=0)
    cx = xs + reg[..., 0]
    cy = ys + reg[..., 1]
    boxes = torch.stack(
        [cx - wh[..., 0], cy - wh[..., 1], cx + wh[..., 2], cy + wh[..., 3]], dim=2
    ) * float(down_ratio)
    embeddings = F.normalize(at_peaks("id"), dim=2)
    return RawDetections(boxes=boxes, scores=scores, classes=classes, embeddings=embeddings)


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
    raw = decode_raw(outputs, top_k=top_k, down_ratio=down_ratio)
    if len(letterboxes) != raw.scores.shape[0]:
        raise ValueError(
            f"{len(letterboxes)} letterboxes for a batch of {raw.scores.shape[0]} images"
        )
    result = []
    for i, box_transform in enumerate(letterboxes):
        keep = raw.scores[i] > conf_thres
        boxes = raw.boxes[i][keep].cpu().numpy().astype(np.float32)
        boxes = np.asarray(box_transform.to_original(boxes), dtype=np.float32).reshape(-1, 4)
        result.append(
            Detections(
                boxes=boxes,
                scores=raw.scores[i][keep].cpu().numpy().astype(np.float32),
                embeddings=raw.embeddings[i][keep].cpu().numpy().astype(np.float32),
                # The heatmap channel of each peak: its class, so each class gets its own tracks.
                class_ids=raw.classes[i][keep].cpu().numpy().astype(np.int64),
            )
        )
    return result
