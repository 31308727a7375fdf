"""CenterNet-style training targets: Gaussian heatmap peaks, box sizes, offsets and ids."""

from __future__ import annotations

import math

import numpy as np

MAX_OBJECTS = 500  # K: objects per image the targets hold, as the reference
DOWN_RATIO = 4  # output stride of the network
MIN_OVERLAP = 0.7  # CenterNet: a box shifted by the radius still has IoU >= this


def gaussian_radius(height: float, width: float, min_overlap: float = MIN_OVERLAP) -> float:
    """CenterNet's radius: the smallest of its three corner-shift cases (its formula as is)."""
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def gaussian_2d(radius: int) -> np.ndarray:
    """A (2r+1)^2 Gaussian with peak 1 and sigma = diameter / 6."""
    sigma = (2 * radius + 1) / 6
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g.astype(np.float32)


def draw_gaussian(heatmap: np.ndarray, center: tuple[int, int], radius: int) -> None:
    """Max-paste a Gaussian at integer `center` (x, y), clipped at the borders (in place)."""
    g = gaussian_2d(radius)
    x, y = center
    h, w = heatmap.shape
    left, right = min(x, radius), min(w - x, radius + 1)
    top, bottom = min(y, radius), min(h - y, radius + 1)
    if left + right <= 0 or top + bottom <= 0:
        return
    region = heatmap[y - top : y + bottom, x - left : x + right]
    patch = g[radius - top : radius + bottom, radius - left : radius + right]
    np.maximum(region, patch, out=region)


def build_targets(
    boxes_xyxy: np.ndarray,
    ids: np.ndarray,
    classes: np.ndarray,
    input_w: int,
    input_h: int,
    *,
    num_classes: int = 1,
    max_objects: int = MAX_OBJECTS,
    down_ratio: int = DOWN_RATIO,
) -> dict[str, np.ndarray]:
    """Targets for amodal boxes in input pixels, as the reference: the centre is clipped into the
    output map, the ltrb sides reach the unclipped edges and the Gaussian has the full size."""
    out_w, out_h = input_w // down_ratio, input_h // down_ratio
    hm = np.zeros((num_classes, out_h, out_w), np.float32)
    wh = np.zeros((max_objects, 4), np.float32)
    reg = np.zeros((max_objects, 2), np.float32)
    ind = np.zeros((max_objects,), np.int64)
    reg_mask = np.zeros((max_objects,), np.uint8)
    target_ids = np.full((max_objects,), -1, np.int64)
    # Each object's class index: its ID classifier (one per class) and id numbering.
    target_cls = np.zeros((max_objects,), np.int64)
    k = 0
    for box, tid, cls in zip(boxes_xyxy, ids, classes, strict=True):
        if k >= max_objects:
            break
        x0, y0, x1, y1 = (float(v) / down_ratio for v in box)
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            continue
        cx = min(max((x0 + x1) / 2, 0.0), out_w - 1)
        cy = min(max((y0 + y1) / 2, 0.0), out_h - 1)
        ix, iy = int(cx), int(cy)
        radius = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w))))
        draw_gaussian(hm[int(cls)], (ix, iy), radius)
        wh[k] = (cx - x0, cy - y0, x1 - cx, y1 - cy)  # ltrb from the (sub-pixel) centre
        ind[k] = iy * out_w + ix
        reg[k] = (cx - ix, cy - iy)
        reg_mask[k] = 1
        target_ids[k] = int(tid)
        target_cls[k] = int(cls)
        k += 1
    return {
        "hm": hm,
        "reg_mask": reg_mask,
        "ind": ind,
        "wh": wh,
        "reg": reg,
        "ids": target_ids,
        "cls": target_cls,
    }
