"""People-like figures: an appearance per identity and its pre-rendered walking sprites.

Appearance (shirt and trouser colours, a shirt pattern, skin, hair, build) is what re-ID has to
learn, so shirt hues are spread with the golden ratio: consecutive identities in a sequence get
far-apart hues, while the random start makes every seed's people new.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

REF_HEIGHT = (
    192  # sprites are drawn at this height, then shrunk per frame (sharper than drawing small)
)
WALK_PHASES = 8  # sprites per walking cycle; enough for smooth legs at 30 fps
GOLDEN = 0.6180339887  # hue step: maximally spread hues for any number of identities
PATTERNS = ("solid", "stripes", "two_tone", "vstripes")
TROUSERS = (  # BGR: denim, black, grey, beige, brown, olive, navy, white
    (120, 70, 40),
    (30, 30, 30),
    (110, 110, 110),
    (150, 190, 210),
    (40, 70, 110),
    (60, 110, 90),
    (90, 40, 20),
    (225, 225, 225),
)
SKINS = ((185, 210, 245), (140, 175, 225), (100, 140, 200), (60, 95, 150), (45, 70, 110))
HAIRS = ((20, 20, 25), (30, 50, 90), (60, 110, 170), (140, 140, 140), (20, 30, 60))


@dataclass(frozen=True)
class Appearance:
    shirt: tuple[int, int, int]
    pattern_colour: tuple[int, int, int]
    pattern: str
    trousers: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    height: float  # relative to the nominal height at a given depth
    build: float  # relative width


def _hsv_bgr(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (int(b * 255), int(g * 255), int(r * 255))


def _sample_one(rng: np.random.Generator, hue: float) -> Appearance:
    shirt = _hsv_bgr(hue, rng.uniform(0.55, 0.95), rng.uniform(0.55, 0.95))
    pattern = PATTERNS[int(rng.integers(len(PATTERNS)))]
    # The pattern colour contrasts in hue and brightness with the shirt.
    second = _hsv_bgr(hue + rng.uniform(0.3, 0.7), rng.uniform(0.0, 0.8), rng.uniform(0.15, 1.0))
    return Appearance(
        shirt=shirt,
        pattern_colour=second,
        pattern=pattern,
        trousers=TROUSERS[int(rng.integers(len(TROUSERS)))],
        skin=SKINS[int(rng.integers(len(SKINS)))],
        hair=HAIRS[int(rng.integers(len(HAIRS)))],
        height=float(rng.uniform(0.88, 1.1)),
        build=float(rng.uniform(0.85, 1.2)),
    )


def sample_appearances(rng: np.random.Generator, count: int) -> list[Appearance]:
    """`count` distinct-looking identities: hues a golden-ratio step apart from a random start."""
    start = rng.random()
    return [_sample_one(rng, start + i * GOLDEN) for i in range(count)]


@dataclass(frozen=True)
class Sprite:
    """A tightly cropped figure: BGR, alpha in [0,1], and where the body's axis is."""

    bgr: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) float32
    axis_x: float  # column of the body's vertical axis inside the crop

    def flipped(self) -> Sprite:
        return Sprite(
            self.bgr[:, ::-1].copy(), self.alpha[:, ::-1].copy(), self.bgr.shape[1] - self.axis_x
        )


def _shade(colour: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    """A darker tone for the far limbs, so legs and arms read as two."""
    b, g, r = colour
    return (int(b * k), int(g * k), int(r * k))


def _limb(
    canvas: np.ndarray,
    mask: np.ndarray,
    top: tuple[float, float],
    angle: float,
    length: float,
    width: float,
    colour: tuple[int, int, int],
) -> tuple[int, int]:
    """A limb as a thick line from `top`, swung by `angle` radians; returns its end."""
    end = (top[0] + length * np.sin(angle), top[1] + length * np.cos(angle))
    p0 = (round(top[0]), round(top[1]))
    p1 = (round(end[0]), round(end[1]))
    w = max(1, round(width))
    cv2.line(canvas, p0, p1, colour, w, cv2.LINE_AA)
    cv2.line(mask, p0, p1, 255, w, cv2.LINE_AA)
    return p1


def _torso(
    canvas: np.ndarray,
    mask: np.ndarray,
    look: Appearance,
    cx: float,
    top: int,
    bottom: int,
    half_w: int,
) -> None:
    x0, x1 = int(cx - half_w), int(cx + half_w)
    pts = np.array(
        [[x0 + 2, top], [x1 - 2, top], [x1 - half_w // 6, bottom], [x0 + half_w // 6, bottom]]
    )
    cv2.fillConvexPoly(canvas, pts, look.shirt, cv2.LINE_AA)
    cv2.fillConvexPoly(mask, pts, 255, cv2.LINE_AA)
    region = np.zeros(canvas.shape[:2], np.uint8)
    height = bottom - top
    if look.pattern == "stripes":
        for k in range(1, 6, 2):
            y0 = top + k * height // 6
            cv2.rectangle(region, (x0, y0), (x1, y0 + height // 7), 255, -1)
    elif look.pattern == "two_tone":
        cv2.rectangle(region, (x0, top + height // 2), (x1, bottom), 255, -1)
    elif look.pattern == "vstripes":
        step = max(2, (x1 - x0) // 5)
        for x in range(x0 + step // 2, x1, 2 * step):
            cv2.rectangle(region, (x, top), (x + step - 1, bottom), 255, -1)
    if look.pattern != "solid":
        sel = (region > 0) & (mask > 0)
        canvas[sel] = look.pattern_colour


def render_pose(look: Appearance, phase: float | None) -> Sprite:
    """The figure facing right at REF_HEIGHT; `phase` in [0,1) of a walking cycle, None standing."""
    H = REF_HEIGHT
    W = H
    canvas = np.zeros((H + 8, W, 3), np.uint8)
    mask = np.zeros((H + 8, W), np.uint8)
    cx = W / 2
    swing = 0.0 if phase is None else 0.45 * np.sin(2 * np.pi * phase)
    half_w = int(0.15 * H * look.build)
    hip_y = 0.52 * H
    leg_len = H - hip_y - 0.03 * H
    leg_w = 0.11 * H * look.build
    shoe = (25, 25, 25)
    # Far limbs first (darker), then the body, then near limbs: a simple side-on depth order.
    dark = _shade(look.trousers, 0.7)
    end = _limb(canvas, mask, (cx, hip_y), -swing, leg_len, leg_w, dark)
    cv2.circle(canvas, end, int(leg_w * 0.55), shoe, -1, cv2.LINE_AA)
    cv2.circle(mask, end, int(leg_w * 0.55), 255, -1, cv2.LINE_AA)
    arm_dark = _shade(look.shirt, 0.7)
    shoulder = (cx, 0.18 * H)
    _limb(canvas, mask, shoulder, swing * 0.8, 0.34 * H, 0.07 * H, arm_dark)
    end = _limb(canvas, mask, (cx, hip_y), swing, leg_len, leg_w, look.trousers)
    cv2.circle(canvas, end, int(leg_w * 0.55), shoe, -1, cv2.LINE_AA)
    cv2.circle(mask, end, int(leg_w * 0.55), 255, -1, cv2.LINE_AA)
    # Hips join the legs to the torso.
    cv2.rectangle(
        canvas,
        (int(cx - half_w * 0.8), int(hip_y - 0.04 * H)),
        (int(cx + half_w * 0.8), int(hip_y + 0.05 * H)),
        look.trousers,
        -1,
    )
    cv2.rectangle(
        mask,
        (int(cx - half_w * 0.8), int(hip_y - 0.04 * H)),
        (int(cx + half_w * 0.8), int(hip_y + 0.05 * H)),
        255,
        -1,
    )
    _torso(canvas, mask, look, cx, int(0.15 * H), int(hip_y), half_w)
    hand = _limb(canvas, mask, shoulder, -swing * 0.8, 0.34 * H, 0.07 * H, look.shirt)
    cv2.circle(canvas, hand, int(0.035 * H), look.skin, -1, cv2.LINE_AA)
    cv2.circle(mask, hand, int(0.035 * H), 255, -1, cv2.LINE_AA)
    # Head and hair.
    head_c = (int(cx + 0.01 * H), int(0.085 * H))
    r = int(0.075 * H)
    cv2.circle(canvas, head_c, r, look.skin, -1, cv2.LINE_AA)
    cv2.circle(mask, head_c, r, 255, -1, cv2.LINE_AA)
    cv2.ellipse(canvas, head_c, (r, r), 0, 150, 390, look.hair, -1, cv2.LINE_AA)
    cv2.rectangle(
        canvas,
        (int(cx - 0.03 * H), int(0.15 * H)),
        (int(cx + 0.03 * H), int(0.17 * H)),
        look.skin,
        -1,
    )
    ys, xs = np.nonzero(mask > 32)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = mask[y0:y1, x0:x1].astype(np.float32) / 255.0
    return Sprite(canvas[y0:y1, x0:x1].copy(), alpha, float(cx - x0))


@dataclass(frozen=True)
class SpriteSet:
    """All poses of one identity, facing right; facing left is the mirror image."""

    walking: tuple[Sprite, ...]
    standing: Sprite
    walking_left: tuple[Sprite, ...]
    standing_left: Sprite

    def pose(self, phase: float | None, facing_right: bool) -> Sprite:
        if phase is None:
            return self.standing if facing_right else self.standing_left
        k = int(phase * WALK_PHASES) % WALK_PHASES
        return self.walking[k] if facing_right else self.walking_left[k]


def render_sprites(look: Appearance) -> SpriteSet:
    walking = tuple(render_pose(look, k / WALK_PHASES) for k in range(WALK_PHASES))
    standing = render_pose(look, None)
    return SpriteSet(walking, standing, tuple(s.flipped() for s in walking), standing.flipped())


class AppearancePool:
    """Identities created on demand (people keep arriving), each with its sprites."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.start = rng.random()
        self.looks: list[Appearance] = []
        self.sprites: list[SpriteSet] = []

    def get(self, identity: int) -> SpriteSet:
        while len(self.looks) <= identity:
            look = _sample_one(self.rng, self.start + len(self.looks) * GOLDEN)
            self.looks.append(look)
            self.sprites.append(render_sprites(look))
        return self.sprites[identity]

    def height(self, identity: int) -> float:
        self.get(identity)
        return self.looks[identity].height
