"""Walkers on the ground plane: varying speed, stops, turns, entering and leaving the frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fairmot.data.synth.background import Scene

WALK_SPEED = 0.8  # body heights per second: about 1.4 m/s for a 1.7 m person
STRIDE = 1.6  # body heights travelled per walking cycle (two steps)
STOP_EVERY_S = 10.0  # mean seconds between stops
ENTER_EVERY_S = 1.5  # mean seconds between arrivals while the scene holds fewer than `density`


@dataclass
class Walker:
    identity: int  # index into the sequence's appearances
    x: float  # feet position, image pixels
    y: float
    heading: float  # radians; 0 = walking right
    speed: float  # personal speed factor
    phase: float = 0.0
    stop_left: int = 0  # frames left standing still

    @property
    def facing_right(self) -> bool:
        return np.cos(self.heading) >= 0


@dataclass(frozen=True)
class Placement:
    """Where a figure is in one frame (feet position, height) and its pose."""

    identity: int
    x: float
    y: float
    height: float
    phase: float | None  # None: standing
    facing_right: bool


class Crowd:
    """Simulates walkers frame by frame; deterministic for a given generator."""

    def __init__(
        self,
        rng: np.random.Generator,
        scene: Scene,
        fps: float,
        density: float,
        first_identity: int = 0,
    ) -> None:
        self.rng, self.scene, self.fps, self.density = rng, scene, fps, density
        self.walkers: list[Walker] = []
        self.next_identity = first_identity
        for _ in range(round(density)):
            self._spawn(inside=True)

    def _spawn(self, *, inside: bool) -> None:
        rng, sc = self.rng, self.scene
        y = rng.uniform(sc.walk_top, sc.walk_bottom)
        right = rng.random() < 0.5
        margin = 0.3 * sc.figure_height(y)
        if inside:
            x = rng.uniform(0.05, 0.95) * sc.width
        else:
            x = -margin if right else sc.width + margin
        tilt = rng.uniform(-0.45, 0.45)
        heading = tilt if right else np.pi - tilt
        walker = Walker(self.next_identity, x, y, heading, rng.uniform(0.6, 1.4), rng.random())
        self.next_identity += 1
        self.walkers.append(walker)

    def step(self) -> None:
        rng, sc, fps = self.rng, self.scene, self.fps
        keep = []
        for w in self.walkers:
            fig_h = sc.figure_height(w.y)
            if w.stop_left > 0:
                w.stop_left -= 1
            elif rng.random() < 1.0 / (STOP_EVERY_S * fps):
                w.stop_left = int(rng.uniform(0.7, 2.5) * fps)
            else:
                w.speed = float(np.clip(w.speed + rng.normal(0, 0.03), 0.5, 1.6))
                w.heading += rng.normal(0, 0.02)
                dist = WALK_SPEED * w.speed * fig_h / fps
                w.x += dist * np.cos(w.heading)
                # Depth motion looks slower on screen (foreshortening).
                w.y += 0.5 * dist * np.sin(w.heading)
                if not sc.walk_top <= w.y <= sc.walk_bottom:
                    w.y = float(np.clip(w.y, sc.walk_top, sc.walk_bottom))
                    w.heading = -w.heading
                w.phase = (w.phase + dist / (STRIDE * fig_h)) % 1.0
            margin = 0.5 * fig_h
            if -margin <= w.x <= sc.width + margin:
                keep.append(w)
        self.walkers = keep
        if len(self.walkers) < self.density and rng.random() < 1.0 / (ENTER_EVERY_S * fps) * max(
            1.0, self.density - len(self.walkers)
        ):
            self._spawn(inside=False)

    def placements(self, height_of: Callable[[int], float]) -> list[Placement]:
        """The current frame; `height_of(identity)` is an identity's relative height."""
        out = []
        for w in self.walkers:
            h = self.scene.figure_height(w.y) * height_of(w.identity)
            phase = None if w.stop_left > 0 else w.phase
            out.append(Placement(w.identity, w.x, w.y, h, phase, w.facing_right))
        return out
