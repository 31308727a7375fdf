"""A scene file for a synthetic sequence and the analytics its walkers' true paths imply.

The generator knows where every person's feet are in every frame, so it can say exactly how
many crossed each line in each direction, who was in the zone when, and how far and fast each
walked, without looking at a box. Tests compare `fairmot analytics` (on ground-truth boxes or
on tracked video) with these numbers.

The scene: two vertical counting lines at a third and two thirds of the width (walkers move
mostly sideways, so each passage is one crossing), a zone over the middle fifth, and a
calibration from the camera the perspective implies (see `GroundPlane`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairmot.data.synth.background import Scene

# The generator's people are 1.7 m tall (motion.WALK_SPEED: 0.8 body heights/s ~ 1.4 m/s).
PERSON_HEIGHT_M = 1.7
# Scene.figure_height: a figure is 0.62 x (feet row - horizon) pixels tall.
FIGURE_HEIGHT_RATIO = 0.62
LINE_POSITIONS = {"left": 1 / 3, "right": 2 / 3}
ZONE_SPAN = (0.4, 0.6)  # of the width, over the whole walkable depth

# One visible walker in one frame: frame (from 1), gt id, feet x, feet y (image pixels).
PathSample = tuple[int, int, float, float]


@dataclass(frozen=True)
class GroundPlane:
    """The pinhole camera the synthetic perspective implies, looking level at flat ground.

    A figure of height H metres whose feet are d = y - horizon pixels below the horizon is
    0.62 d pixels tall, so the camera is H / 0.62 m above the ground and feet at row y are
    Z = f * camera_height / d metres away; sideways X = (x - cx) * camera_height / d. The
    focal length f is free in the generator; f = 2 d at the middle of the walkable band makes
    its depth motion (half the on-screen rate of sideways motion) the same speed in metres.
    The map (x, y) -> (X, Z) is a homography, so four points calibrate it exactly.
    """

    horizon: float
    centre_x: float
    focal: float
    camera_height: float

    @classmethod
    def of(cls, scene: Scene) -> GroundPlane:
        middle = 0.5 * (scene.walk_top + scene.walk_bottom) - scene.horizon
        return cls(
            horizon=scene.horizon,
            centre_x=scene.width / 2,
            focal=2.0 * middle,
            camera_height=PERSON_HEIGHT_M / FIGURE_HEIGHT_RATIO,
        )

    def to_ground(self, x: float, y: float) -> tuple[float, float]:
        depth = y - self.horizon
        return (
            (x - self.centre_x) * self.camera_height / depth,
            self.focal * self.camera_height / depth,
        )


def scene_file(scene: Scene) -> dict[str, Any]:
    """The scene file (lines, zone, calibration) of a synthetic sequence."""
    w, h = scene.width, scene.height
    plane = GroundPlane.of(scene)
    # p1 at the bottom, p2 at the horizon: walking to the right is "in".
    lines = {
        name: [[round(f * w, 2), float(h)], [round(f * w, 2), round(scene.horizon, 2)]]
        for name, f in LINE_POSITIONS.items()
    }
    x0, x1 = (round(f * w, 2) for f in ZONE_SPAN)
    top = round(scene.horizon + 1.0, 2)
    zone = [[x0, top], [x1, top], [x1, float(h)], [x0, float(h)]]
    corners = [
        (0.1 * w, scene.walk_bottom),
        (0.9 * w, scene.walk_bottom),
        (0.9 * w, scene.walk_top),
        (0.1 * w, scene.walk_top),
    ]
    calibration = [
        {
            "image": [round(x, 3), round(y, 3)],
            "ground": [round(v, 6) for v in plane.to_ground(round(x, 3), round(y, 3))],
        }
        for x, y in corners
    ]
    return {"lines": lines, "zones": {"middle": zone}, "calibration": calibration}


def true_analytics(scene: Scene, samples: Sequence[PathSample], fps: float) -> dict[str, Any]:
    """Counts, zone visits, distances and speeds of the walkers' exact paths.

    Crossings are sign changes of (x - line x) between consecutive sightings; a walker is in
    the zone while its x is within the zone's span. No boxes, no hysteresis: the path is exact.
    """
    plane = GroundPlane.of(scene)
    paths: dict[int, list[tuple[int, float, float]]] = {}
    for frame, track_id, x, y in sorted(samples, key=lambda s: (s[1], s[0])):
        paths.setdefault(track_id, []).append((frame, x, y))
    lines: dict[str, dict[str, Any]] = {}
    for name, f in LINE_POSITIONS.items():
        c = f * scene.width
        events = []
        for track_id, path in paths.items():
            for (_, xa, _), (frame, xb, _) in itertools.pairwise(path):
                if (xa < c) != (xb < c):
                    direction = "in" if xb >= c else "out"
                    events.append({"track_id": track_id, "frame_id": frame, "direction": direction})
        events.sort(key=lambda e: (e["frame_id"], e["track_id"]))
        lines[name] = {
            "in": sum(e["direction"] == "in" for e in events),
            "out": sum(e["direction"] == "out" for e in events),
            "events": events,
        }
    x0, x1 = (f * scene.width for f in ZONE_SPAN)
    changes = []
    occupancy: dict[int, int] = {}
    for track_id, path in paths.items():
        was_inside = False
        for frame, x, _ in path:
            inside = x0 <= x <= x1
            if inside != was_inside:
                change = "enter" if inside else "exit"
                changes.append({"track_id": track_id, "frame_id": frame, "change": change})
            occupancy[frame] = occupancy.get(frame, 0) + inside
            was_inside = inside
    changes.sort(key=lambda c: (c["frame_id"], c["track_id"]))
    tracks: dict[str, dict[str, Any]] = {}
    for track_id, path in paths.items():
        image = np.array([(x, y) for _, x, y in path])
        ground = np.array([plane.to_ground(x, y) for _, x, y in path])
        first, last = path[0][0], path[-1][0]
        distance = float(np.sum(np.linalg.norm(np.diff(ground, axis=0), axis=1)))
        seconds = (last - first) / fps
        tracks[str(track_id)] = {
            "first_frame": first,
            "last_frame": last,
            "distance_px": round(float(np.sum(np.linalg.norm(np.diff(image, axis=0), axis=1))), 3),
            "distance_m": round(distance, 4),
            "mean_speed_mps": round(distance / seconds, 4) if seconds > 0 else 0.0,
            "trajectory": [[f, round(x, 3), round(y, 3)] for f, x, y in path],
            "ground_path": [
                [f, round(gx, 4), round(gz, 4)]
                for (f, _, _), (gx, gz) in zip(path, ground, strict=True)
            ],
        }
    return {
        "fps": fps,
        "lines": lines,
        "zones": {
            "middle": {
                "entries": sum(c["change"] == "enter" for c in changes),
                "exits": sum(c["change"] == "exit" for c in changes),
                "max_occupancy": max(occupancy.values(), default=0),
                "changes": changes,
            }
        },
        "tracks": tracks,
        "distance_px": round(sum(t["distance_px"] for t in tracks.values()), 3),
        "distance_m": round(sum(t["distance_m"] for t in tracks.values()), 4),
    }


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) and (M, 4) tlwh boxes."""
    ax1, ay1, ax2, ay2 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx1, by1, bx2, by2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    w = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    h = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = w * h
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def _votes(tracks: np.ndarray, gt: np.ndarray, min_iou: float) -> dict[int, dict[int, int]]:
    """Per track, in how many frames its box overlaps each person's (IoU >= `min_iou`)."""
    votes: dict[int, dict[int, int]] = {}
    for frame in np.unique(tracks[:, 0]):
        mine, theirs = tracks[tracks[:, 0] == frame], gt[gt[:, 0] == frame]
        if len(theirs) == 0:
            continue
        overlap = _iou(mine[:, 2:6], theirs[:, 2:6])
        for i, best in enumerate(overlap.argmax(axis=1)):
            if overlap[i, best] >= min_iou:
                counts = votes.setdefault(int(mine[i, 1]), {})
                person = int(theirs[best, 1])
                counts[person] = counts.get(person, 0) + 1
    return votes


def identities(tracks: np.ndarray, gt: np.ndarray, min_iou: float = 0.5) -> dict[int, int]:
    """Which ground-truth id each track follows: the one its boxes overlap (IoU >= `min_iou`)
    in most of its frames. MOT rows (frame, id, x, y, w, h, ...)."""
    return {
        track: max(counts, key=lambda k: counts[k])
        for track, counts in _votes(tracks, gt, min_iou).items()
    }


# A track "follows" a person when its box is on them in this share of its frames: one that
# switched to another person midway follows neither.
MIN_FOLLOW_SHARE = 0.9


def compare_with_truth(
    report: dict[str, Any],
    truth: dict[str, Any],
    tracks: np.ndarray,
    gt: np.ndarray,
    *,
    min_seconds: float = 2.0,
) -> dict[str, Any]:
    """Analytics of tracked video (SceneAnalytics.report()) against the true analytics: line
    counts per direction, total distance, and the mean speed of every track that followed one
    person (its box on them, IoU >= 0.5, in 90% of its frames) for at least `min_seconds`
    against that person's true speed over the same frames."""
    fps = float(truth["fps"])
    lines = {
        name: {d: (report["lines"][name][d], line[d]) for d in ("in", "out")}
        for name, line in truth["lines"].items()
    }
    votes = _votes(tracks, gt, 0.5)
    ids, sizes = np.unique(tracks[:, 1], return_counts=True)
    frames_of = {int(k): int(n) for k, n in zip(ids, sizes, strict=True)}
    speeds = []
    for key, track in report["tracks"].items():
        first, last = track.get("speed_frames", (track["first_frame"], track["last_frame"]))
        counts = votes.get(int(key), {})
        if not counts or "mean_speed_mps" not in track:
            continue
        best = max(counts, key=lambda k: counts[k])
        person = truth["tracks"].get(str(best))
        followed = counts[best] >= min_seconds * fps
        if person is None or not followed or counts[best] < MIN_FOLLOW_SHARE * frames_of[int(key)]:
            continue
        path = np.array([p[1:] for p in person["ground_path"] if first <= p[0] <= last])
        frames = [p[0] for p in person["ground_path"] if first <= p[0] <= last]
        if len(path) < 2:
            continue
        true = float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))
        true_speed = true * fps / (frames[-1] - frames[0])
        speeds.append((int(key), best, track["mean_speed_mps"], true_speed))
    distance = sum(t.get("distance_m", 0.0) for t in report["tracks"].values())
    return {
        "lines": lines,
        "distance_m": (round(distance, 3), truth["distance_m"]),
        "speeds": speeds,
    }
