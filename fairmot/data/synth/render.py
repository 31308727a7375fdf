"""Composite one frame: figures and occluders painted far to near; ground truth from what shows.

Boxes are amodal, as MOT Challenge ground truth and the trained model's boxes are: a person half
out of the frame keeps their whole box, which then reaches past the image; what the border and
nearer things hide is in the visibility, not in the box."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fairmot.data.synth.background import Occluder, draw_occluder
from fairmot.data.synth.carts import MixedPool
from fairmot.data.synth.figures import REF_HEIGHT, AppearancePool
from fairmot.data.synth.motion import Placement

SOLID_ALPHA = 0.5  # a sprite pixel counts as the figure (for visibility) above this opacity
OCCLUDER_ID = -2
BACKGROUND_ID = -1


@dataclass(frozen=True)
class Visible:
    """A figure's ground truth in one frame: its whole tight box (not clipped to the image) and
    the fraction of its figure that shows (hidden by the border or by anything nearer)."""

    identity: int
    x: float
    y: float
    w: float
    h: float
    visibility: float


def render_frame(
    background: np.ndarray,
    occluders: list[Occluder],
    figures: list[Placement],
    pool: AppearancePool | MixedPool,
) -> tuple[np.ndarray, list[Visible]]:
    frame = background.copy()
    H, W = frame.shape[:2]
    owner = np.full((H, W), BACKGROUND_ID, np.int16)
    # Depth order: whatever stands lower in the image is nearer the camera.
    order = sorted(
        [(p.y, 0, i) for i, p in enumerate(figures)]
        + [(o.base_y, 1, i) for i, o in enumerate(occluders)]
    )
    placed: list[tuple[int, int, int, int, int, int]] = []  # figure index, x0, y0, x1, y1, solid px
    for _, kind, i in order:
        if kind == 1:
            occ = occluders[i]
            draw_occluder(frame, occ)
            owner[max(occ.y0, 0) : max(occ.y1 + 1, 0), max(occ.x0, 0) : max(occ.x1 + 1, 0)] = (
                OCCLUDER_ID
            )
            continue
        p = figures[i]
        sprite = pool.get(p.identity).pose(p.phase, p.facing_right)
        scale = p.height / REF_HEIGHT
        sh, sw = sprite.alpha.shape
        nw, nh = max(1, round(sw * scale)), max(1, round(sh * scale))
        x0 = round(p.x - sprite.axis_x * scale)
        y0 = round(p.y - nh)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + nw, W), min(y0 + nh, H)
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            continue
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        bgr = cv2.resize(sprite.bgr, (nw, nh), interpolation=interp)
        alpha = cv2.resize(sprite.alpha, (nw, nh), interpolation=interp)
        solid = alpha > SOLID_ALPHA
        sub = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
        a = alpha[sub][..., None]
        roi = frame[cy0:cy1, cx0:cx1]
        roi[:] = (roi * (1.0 - a) + bgr[sub] * a).astype(np.uint8)
        owner[cy0:cy1, cx0:cx1][solid[sub]] = i
        placed.append((i, x0, y0, nw, nh, int(solid.sum())))
    truth = []
    for i, x0, y0, nw, nh, total in placed:
        cx0, cy0 = max(x0, 0), max(y0, 0)
        shown = int(np.count_nonzero(owner[cy0 : y0 + nh, cx0 : x0 + nw] == i))
        if shown == 0 or total == 0:
            continue
        truth.append(Visible(figures[i].identity, x0, y0, nw, nh, shown / total))
    return frame, truth
