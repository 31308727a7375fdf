"""Static scenery: a perspective ground plane, a backdrop with clutter, and occluding objects."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GROUNDS = (
    (110, 110, 115),
    (150, 175, 190),
    (95, 120, 100),
    (125, 140, 160),
)  # BGR asphalt, paving, grass, sand


@dataclass(frozen=True)
class Scene:
    """Geometry of the ground plane: feet may stand between `walk_top` and `walk_bottom`."""

    width: int
    height: int
    horizon: float  # image row of the horizon
    walk_top: float
    walk_bottom: float

    def figure_height(self, feet_y: float) -> float:
        """Nominal figure height in pixels for feet at this row (linear in distance to horizon)."""
        return 0.62 * (feet_y - self.horizon)


@dataclass(frozen=True)
class Occluder:
    """A pillar or box standing on the ground; figures with feet above `base_y` are behind it."""

    x0: int
    y0: int
    x1: int
    y1: int
    colour: tuple[int, int, int]

    @property
    def base_y(self) -> int:
        return self.y1


def make_scene(rng: np.random.Generator, width: int, height: int) -> Scene:
    horizon = height * rng.uniform(0.24, 0.36)
    depth = height - horizon
    return Scene(width, height, horizon, horizon + 0.24 * depth, height - 0.02 * height)


def _backdrop(rng: np.random.Generator, img: np.ndarray, horizon: int) -> None:
    w = img.shape[1]
    top = np.array(rng.integers(150, 230, 3), np.float32)
    bottom = top * rng.uniform(0.6, 0.9)
    ramp = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    img[:horizon] = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
    # Building facades with window grids: clutter that is not a person.
    x = int(rng.integers(-w // 10, 0))
    while x < w:
        bw = int(rng.uniform(0.08, 0.25) * w)
        bh = int(rng.uniform(0.4, 1.0) * horizon)
        colour = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), colour, -1)
        win = tuple(int(c * 0.55) for c in colour)
        step = max(4, bw // 6)
        for wx in range(x + step // 2, x + bw - step // 2, step):
            for wy in range(horizon - bh + step // 2, horizon - step // 2, step):
                cv2.rectangle(img, (wx, wy), (wx + step // 2, wy + step // 2), win, -1)
        x += bw + int(rng.integers(0, max(2, w // 20)))


def _ground(rng: np.random.Generator, img: np.ndarray, scene: Scene) -> None:
    h, w = img.shape[:2]
    hz = int(scene.horizon)
    base = np.array(GROUNDS[int(rng.integers(len(GROUNDS)))], np.float32) * rng.uniform(0.85, 1.1)
    depth = np.linspace(0.0, 1.0, h - hz, dtype=np.float32)[:, None, None]
    img[hz:] = np.clip(base * (0.8 + 0.25 * depth), 0, 255).astype(np.uint8)
    line = tuple(int(c) for c in np.clip(base * 0.75, 0, 255))
    # Tiles in perspective: rays from the vanishing point, rows spaced geometrically.
    vx = w * rng.uniform(0.3, 0.7)
    spacing = w * rng.uniform(0.08, 0.16)
    for k in range(-40, 41):
        x_bottom = vx + k * spacing * 3
        cv2.line(img, (int(vx + k * spacing * 0.05), hz), (int(x_bottom), h), line, 1, cv2.LINE_AA)
    y = float(h)
    ratio = rng.uniform(0.78, 0.86)
    while y - hz > 3:
        cv2.line(img, (0, int(y)), (w, int(y)), line, 1, cv2.LINE_AA)
        y = hz + (y - hz) * ratio
    # Flat markings on the ground (figures walk over them).
    for _ in range(int(rng.integers(2, 6))):
        cy = rng.uniform(scene.walk_top, h)
        s = (cy - hz) / (h - hz)
        axes = (int(rng.uniform(0.03, 0.08) * w * s) + 1, int(rng.uniform(0.01, 0.03) * h * s) + 1)
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        cv2.ellipse(
            img, (int(rng.uniform(0, w)), int(cy)), axes, 0, 0, 360, colour, -1, cv2.LINE_AA
        )
    noise = rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    img[:] = np.clip(
        img.astype(np.float32) + cv2.GaussianBlur(noise, (3, 3), 0)[..., None], 0, 255
    ).astype(np.uint8)


def make_background(rng: np.random.Generator, scene: Scene) -> np.ndarray:
    """The empty scene as a BGR image."""
    img = np.zeros((scene.height, scene.width, 3), np.uint8)
    _backdrop(rng, img, int(scene.horizon))
    _ground(rng, img, scene)
    return img


def make_occluders(rng: np.random.Generator, scene: Scene, count: int) -> list[Occluder]:
    """Pillars (tall, thin) and boxes (wide, low) at random places on the walkable ground."""
    out = []
    for _ in range(count):
        base = rng.uniform(
            scene.walk_top + 0.1 * (scene.walk_bottom - scene.walk_top), scene.walk_bottom
        )
        fig_h = scene.figure_height(base)
        cx = rng.uniform(0.1, 0.9) * scene.width
        if rng.random() < 0.5:
            half_w, top = 0.14 * fig_h, base - fig_h * rng.uniform(1.3, 2.5)
        else:
            half_w, top = 0.45 * fig_h, base - fig_h * rng.uniform(0.35, 0.55)
        r, g, b = (int(c) for c in rng.integers(50, 200, 3))
        out.append(
            Occluder(int(cx - half_w), int(max(top, 0)), int(cx + half_w), int(base), (r, g, b))
        )
    return out


def draw_occluder(img: np.ndarray, occ: Occluder) -> None:
    cv2.rectangle(img, (occ.x0, occ.y0), (occ.x1, occ.y1), occ.colour, -1)
    edge = tuple(int(c * 0.6) for c in occ.colour)
    cv2.rectangle(img, (occ.x0, occ.y0), (occ.x1, occ.y1), edge, 2)
