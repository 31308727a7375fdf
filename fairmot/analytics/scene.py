"""Scene files: named counting lines, zones and an optional ground-plane calibration.

A scene file is YAML or JSON (JSON is YAML, so one reader serves both), published as a JSON
Schema in docs/scene.schema.json:

    lines:                      # directed segments p1 -> p2 in image pixels
      door: [[120, 300], [420, 300]]
    zones:                      # simple polygons in image pixels
      shelf: [[50, 200], [200, 200], [200, 350], [50, 350]]
    calibration:                # optional: >= 4 image points and where they are on the ground
      - {image: [100, 400], ground: [0.0, 0.0]}        # metres
      ...

Everything is parsed and checked once, here: a bad file is a SceneError whose one-line
message names the file and the entry.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairmot.analytics.geometry import (
    Point,
    apply_homography,
    fit_homography,
    self_intersection,
)

# A homography has 8 degrees of freedom: four point pairs are the fewest that fix one.
MIN_CALIBRATION_POINTS = 4


class SceneError(ValueError):
    """A scene file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Line:
    """A directed counting line: `in` is a crossing from its left (cross < 0) to its right."""

    name: str
    p1: Point
    p2: Point


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class Calibration:
    """Image points and their ground-plane positions in metres, and the homography between."""

    image: tuple[Point, ...]
    ground: tuple[Point, ...]
    homography: np.ndarray = field(repr=False, compare=False)

    def to_ground(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image pixels -> (N, 2) metres on the ground plane."""
        return apply_homography(self.homography, points)


@dataclass(frozen=True)
class Scene:
    lines: tuple[Line, ...] = ()
    zones: tuple[Zone, ...] = ()
    calibration: Calibration | None = None

    def to_json(self) -> dict[str, Any]:
        """The scene as a scene file's data (what `parse_scene` reads back)."""
        data: dict[str, Any] = {
            "lines": {line.name: [list(line.p1), list(line.p2)] for line in self.lines},
            "zones": {zone.name: [list(p) for p in zone.polygon] for zone in self.zones},
        }
        if self.calibration is not None:
            data["calibration"] = [
                {"image": list(i), "ground": list(g)}
                for i, g in zip(self.calibration.image, self.calibration.ground, strict=True)
            ]
        return data


def load_scene(path: str | os.PathLike[str]) -> Scene:
    """Read and check a scene file (YAML or JSON)."""
    import yaml

    source = Path(path)
    try:
        text = source.read_text()
    except OSError as error:
        raise SceneError(f"scene file {source}: cannot read it ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise SceneError(f"scene file {source}: not YAML or JSON ({problem})") from None
    return parse_scene(data, source=str(source))


def parse_scene(data: Any, *, source: str = "scene") -> Scene:
    """Check scene data (a scene file's content, e.g. from a request) and build the Scene."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            raise SceneError(f"{source}: not a JSON object") from None
    if not isinstance(data, Mapping):
        raise SceneError(f"{source}: a scene is a mapping with lines, zones and calibration")
    unknown = sorted(set(data) - {"lines", "zones", "calibration"})
    if unknown:
        raise SceneError(
            f"{source}: unknown key {unknown[0]!r} (a scene has lines, zones, calibration)"
        )
    lines = tuple(
        _line(source, name, value) for name, value in _named(source, "lines", data).items()
    )
    zones = tuple(
        _zone(source, name, value) for name, value in _named(source, "zones", data).items()
    )
    calibration = None
    if data.get("calibration") is not None:
        calibration = _calibration(source, data["calibration"])
    return Scene(lines, zones, calibration)


def _named(source: str, key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise SceneError(f"{source}: {key} must map names to points, got {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or not name:
            raise SceneError(f"{source}: {key} names must be non-empty strings, got {name!r}")
    return dict(value)


def _point(where: str, value: Any) -> Point:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise SceneError(f"{where}: a point is [x, y] with two finite numbers, got {value!r}")
    return float(value[0]), float(value[1])


def _points(where: str, value: Any) -> tuple[Point, ...]:
    if not isinstance(value, list | tuple):
        raise SceneError(f"{where}: expected a list of [x, y] points, got {value!r}")
    return tuple(_point(where, v) for v in value)


def _line(source: str, name: str, value: Any) -> Line:
    where = f"{source}: line {name!r}"
    points = _points(where, value)
    if len(points) != 2:
        raise SceneError(f"{where}: a line has exactly two points [p1, p2], got {len(points)}")
    if points[0] == points[1]:
        raise SceneError(f"{where}: degenerate line, p1 and p2 are the same point {points[0]}")
    return Line(name, points[0], points[1])


def _zone(source: str, name: str, value: Any) -> Zone:
    where = f"{source}: zone {name!r}"
    points = _points(where, value)
    if len(points) < 3:
        raise SceneError(f"{where}: a zone is a polygon of at least 3 points, got {len(points)}")
    spread = np.asarray(points) - np.asarray(points).mean(axis=0)
    if np.linalg.matrix_rank(spread) < 2:
        raise SceneError(f"{where}: degenerate zone, its points are on one line")
    edges = self_intersection(points)
    if edges is not None:
        i, j = edges
        raise SceneError(
            f"{where}: self-intersecting zone, edge {i}->{(i + 1) % len(points)} meets edge "
            f"{j}->{(j + 1) % len(points)}; list the corners in order around the polygon"
        )
    return Zone(name, points)


def _calibration(source: str, value: Any) -> Calibration:
    where = f"{source}: calibration"
    if not isinstance(value, list | tuple):
        raise SceneError(f"{where}: expected a list of {{image: [u, v], ground: [x, y]}} pairs")
    image, ground = [], []
    for k, pair in enumerate(value):
        if not isinstance(pair, Mapping) or set(pair) != {"image", "ground"}:
            raise SceneError(
                f"{where} point {k}: expected {{image: [u, v], ground: [x, y]}}, got {pair!r}"
            )
        image.append(_point(f"{where} point {k} image", pair["image"]))
        ground.append(_point(f"{where} point {k} ground", pair["ground"]))
    if len(image) < MIN_CALIBRATION_POINTS:
        raise SceneError(
            f"{where}: needs at least {MIN_CALIBRATION_POINTS} points (image and ground), "
            f"got {len(image)}"
        )
    try:
        homography = fit_homography(np.array(image), np.array(ground))
    except ValueError as error:
        raise SceneError(f"{where}: {error}") from None
    return Calibration(tuple(image), tuple(ground), homography)
