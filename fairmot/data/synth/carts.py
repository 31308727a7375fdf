"""Carts: a second object class for multi-class scenes, pushed around like the people walk.

A cart is a wide, low wire basket on two wheels with a handle, in a saturated colour of its own
(its identity, as a shirt is a person's). Its box is about 1.6 times as wide as tall, where a
person's is about a third as wide: a shape the detector can tell from a person's at any size.
In gt.txt carts are MOT17's class 6 ("non-motorized vehicle"), so real MOT17 data keeps meaning
what it means and a dataset's class map decides what trains.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from fairmot.data.synth.figures import (
    GOLDEN,
    REF_HEIGHT,
    WALK_PHASES,
    AppearancePool,
    Sprite,
    SpriteSet,
)

CART_CLASS = 6  # MOT17 gt class "non-motorized vehicle"
PERSON_CLASS = 1  # MOT17 gt class "pedestrian"
# Cart identities start here so they never collide with the people's (gt id = identity + 1).
CART_IDENTITY_BASE = 10_000
CART_HEIGHT = 0.45  # of a person's height at the same depth
CART_ASPECT = 1.6  # box width / height
CART_DENSITY = 0.5  # carts per person in a scene (at least one)


def _bgr(hue: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, s, v)
    return (int(b * 255), int(g * 255), int(r * 255))


def render_cart(colour: tuple[int, int, int]) -> Sprite:
    """A cart facing right (handle at the back, on the left) drawn at REF_HEIGHT scale."""
    h = int(CART_HEIGHT * REF_HEIGHT)
    w = int(CART_ASPECT * h)
    canvas = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    wheel_r = max(2, h // 9)
    basket_bottom = h - 2 * wheel_r
    basket = np.array(
        [[w // 6, h // 6], [w - 2, h // 6], [w - w // 8, basket_bottom], [w // 4, basket_bottom]]
    )
    cv2.fillConvexPoly(canvas, basket, colour, cv2.LINE_AA)
    cv2.fillConvexPoly(mask, basket, 255, cv2.LINE_AA)
    dark = tuple(int(c * 0.45) for c in colour)
    for x in range(w // 6 + w // 10, w - 2, w // 10):  # the wire grid
        cv2.line(canvas, (x, h // 6), (x, basket_bottom), dark, max(1, h // 40))
    for y in (h // 6 + (basket_bottom - h // 6) // 3, h // 6 + 2 * (basket_bottom - h // 6) // 3):
        cv2.line(canvas, (w // 6, y), (w - 2, y), dark, max(1, h // 40))
    cv2.line(canvas, (w // 6, h // 6), (2, 2), (40, 40, 40), max(2, h // 18))  # handle
    cv2.line(mask, (w // 6, h // 6), (2, 2), 255, max(2, h // 18))
    for cx in (w // 3, w - w // 5):
        cv2.circle(canvas, (cx, h - wheel_r - 1), wheel_r, (20, 20, 20), -1, cv2.LINE_AA)
        cv2.circle(mask, (cx, h - wheel_r - 1), wheel_r, 255, -1, cv2.LINE_AA)
    return Sprite(canvas, mask.astype(np.float32) / 255.0, w / 2)


class CartPool:
    """Cart looks created on demand, for identities from CART_IDENTITY_BASE."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.start = rng.random()
        self.sprites: list[SpriteSet] = []

    def get(self, identity: int) -> SpriteSet:
        k = identity - CART_IDENTITY_BASE
        while len(self.sprites) <= k:
            hue = self.start + len(self.sprites) * GOLDEN
            look = render_cart(_bgr(hue, self.rng.uniform(0.7, 1.0), self.rng.uniform(0.7, 1.0)))
            left = look.flipped()
            self.sprites.append(SpriteSet((look,) * WALK_PHASES, look, (left,) * WALK_PHASES, left))
        return self.sprites[k]

    def height(self, identity: int) -> float:
        self.get(identity)
        return 1.0  # the sprite is already CART_HEIGHT of a person's


class MixedPool:
    """People's and carts' looks behind one `get`/`height`, split by identity."""

    def __init__(self, people: AppearancePool, carts: CartPool) -> None:
        self.people, self.carts = people, carts

    def get(self, identity: int) -> SpriteSet:
        if identity >= CART_IDENTITY_BASE:
            return self.carts.get(identity)
        return self.people.get(identity)

    def height(self, identity: int) -> float:
        if identity >= CART_IDENTITY_BASE:
            return self.carts.height(identity)
        return self.people.height(identity)


def gt_class(identity: int) -> int:
    """The MOT gt class of an identity: a cart's or a person's."""
    return CART_CLASS if identity >= CART_IDENTITY_BASE else PERSON_CLASS
