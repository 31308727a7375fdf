"""SceneAnalytics: tracks in, frame by frame; counts, events, distances and speeds out.

One object serves a whole video (feed every frame, then `report()` for analytics.json), an
endpoint stream (each `update` returns that frame's line events, zone changes and speeds) and
the annotated video (live counts drawn on every frame).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairmot.analytics.counting import LineCounter, LineEvent, ZoneChange, ZoneCounter
from fairmot.analytics.motion import (
    SMOOTH_S,
    SPEED_WINDOW_S,
    path_length,
    smooth,
    window_frames,
    windowed_speeds,
)
from fairmot.analytics.scene import Scene
from fairmot.video.draw import LineOverlay, SceneOverlay, ZoneOverlay

# A track's box in one frame: id and (x, y, w, h) in image pixels, as MOT files write it.
TrackBox = tuple[int, Sequence[float] | np.ndarray]


def foot_point(tlwh: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The anchor of a track: the bottom centre of its box (where it stands)."""
    x, y, w, h = (float(v) for v in tlwh)
    return x + w / 2, y + h


def feet_in_view(tlwh: Sequence[float] | np.ndarray, frame_size: tuple[int, int] | None) -> bool:
    """Whether a box lies inside the frame at its sides and bottom, so its foot point is seen.
    A box cut by the border is amodal: its bottom centre is the detector's guess at a body
    partly outside the picture (None: frame size unknown, every foot point counts)."""
    if frame_size is None:
        return True
    x, y, w, h = (float(v) for v in tlwh)
    return x > 0 and x + w < frame_size[0] and y + h < frame_size[1]


@dataclass(frozen=True)
class FrameAnalytics:
    """What one frame added: crossings, zone entries and exits, and each track's current speed
    (metres per second; only with a calibration, once a track has a speed window of history)."""

    frame_id: int
    line_events: list[LineEvent] = field(default_factory=list)
    zone_changes: list[ZoneChange] = field(default_factory=list)
    speeds: dict[int, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "line_events": [
                {"line": e.line, "track_id": e.track_id, "direction": e.direction}
                for e in self.line_events
            ],
            "zone_changes": [
                {"zone": c.zone, "track_id": c.track_id, "change": c.change}
                for c in self.zone_changes
            ],
            "speeds_mps": {str(k): round(v, 3) for k, v in self.speeds.items()},
        }


class SceneAnalytics:
    """Analytics of one video or stream against one scene, at `fps` frames per second.

    `smooth_s` is the window positions are averaged over for distances and speeds; 0 takes the
    foot points as they are (exact paths, e.g. a generator's ground truth). With `frame_size`
    (width, height), speeds come from the foot points in view only (`feet_in_view`): at the
    image border an amodal box's bottom centre wanders by metres on the ground plane, and a
    walker entering or leaving read 16% slow or fast (bench/analytics.py). Distances and
    trajectories keep every foot point.
    """

    def __init__(
        self,
        scene: Scene,
        fps: float,
        *,
        frame_size: tuple[int, int] | None = None,
        smooth_s: float = SMOOTH_S,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.scene, self.fps, self.frame_size = scene, float(fps), frame_size
        self.lines = [LineCounter(line) for line in scene.lines]
        self.zones = [ZoneCounter(zone) for zone in scene.zones]
        self._paths: dict[int, list[tuple[int, float, float]]] = {}
        # Per track, the frames of its path whose foot point is in view (speeds use these).
        self._in_view: dict[int, list[bool]] = {}
        if smooth_s < 0:
            raise ValueError(f"smooth_s must be >= 0, got {smooth_s}")
        self._smooth = window_frames(smooth_s, self.fps)
        self._speed_window = window_frames(SPEED_WINDOW_S, self.fps)

    def update(self, frame_id: int, tracks: Iterable[TrackBox]) -> FrameAnalytics:
        """Feed the reported tracks of one frame (frames in increasing order)."""
        result = FrameAnalytics(frame_id)
        seen: set[int] = set()
        for track_id, tlwh in tracks:
            track_id = int(track_id)
            foot, box_h = foot_point(tlwh), float(tlwh[3])
            seen.add(track_id)
            self._paths.setdefault(track_id, []).append((frame_id, *foot))
            self._in_view.setdefault(track_id, []).append(feet_in_view(tlwh, self.frame_size))
            for line in self.lines:
                event = line.update(track_id, frame_id, foot, box_h)
                if event is not None:
                    result.line_events.append(event)
            for zone in self.zones:
                change = zone.update(track_id, frame_id, foot, box_h)
                if change is not None:
                    result.zone_changes.append(change)
            speed = self._current_speed(track_id)
            if speed is not None:
                result.speeds[track_id] = speed
        for zone in self.zones:
            zone.end_frame(frame_id, seen)
        return result

    def overlay(self, speeds: dict[int, float] | None = None) -> SceneOverlay:
        """What to draw on the frame just fed: lines with counts, zones with their occupancy
        now, and the given speeds (a frame's `FrameAnalytics.speeds`)."""
        return SceneOverlay(
            lines=tuple(
                LineOverlay(c.line.name, c.line.p1, c.line.p2, c.counts["in"], c.counts["out"])
                for c in self.lines
            ),
            zones=tuple(
                ZoneOverlay(z.zone.name, z.zone.polygon, z.occupancy[-1][1] if z.occupancy else 0)
                for z in self.zones
            ),
            speeds=dict(speeds or {}),
        )

    def _current_speed(self, track_id: int) -> float | None:
        """Speed now from the recent past only (a stream cannot look ahead): the distance
        between two trailing averages a speed window apart."""
        if self.scene.calibration is None:
            return None
        path, in_view = self._paths[track_id], self._in_view[track_id]
        if not in_view[-1]:
            return None
        now = path[-1][0]
        tail = -2 * (self._speed_window + self._smooth)
        recent = [p for p, seen in zip(path[tail:], in_view[tail:], strict=True) if seen]
        current = [p[1:] for p in recent if p[0] > now - self._smooth]
        then = now - self._speed_window
        earlier = [p[1:] for p in recent if then - self._smooth < p[0] <= then]
        if not earlier:
            return None
        ground = self.scene.calibration.to_ground(np.array(current + earlier))
        a = ground[: len(current)].mean(axis=0)
        b = ground[len(current) :].mean(axis=0)
        return float(np.linalg.norm(a - b)) * self.fps / self._speed_window

    def track_stats(self) -> dict[int, dict[str, Any]]:
        """Per track: span, distance (pixels; metres with a calibration), speeds, trajectory."""
        stats = {}
        for track_id, path in sorted(self._paths.items()):
            samples = np.array(path, dtype=np.float64)
            frames, feet = samples[:, 0], samples[:, 1:]
            first, last = int(frames[0]), int(frames[-1])
            w = self._smooth  # steps one smoothing window apart (see motion.path_length)
            entry: dict[str, Any] = {
                "first_frame": first,
                "last_frame": last,
                "distance_px": round(path_length(smooth(feet, w), stride=w), 2),
            }
            if self.scene.calibration is not None:
                to_ground = self.scene.calibration.to_ground
                distance = path_length(smooth(to_ground(feet), w), stride=w)
                entry["distance_m"] = round(distance, 3)
                # Speeds from the foot points in view; all of them if none is.
                seen = np.array(self._in_view[track_id])
                seen = seen if seen.any() else np.ones_like(seen)
                at, ground = frames[seen], smooth(to_ground(feet[seen]), w)
                seconds = (at[-1] - at[0]) / self.fps
                travelled = path_length(ground, stride=w)
                speeds = windowed_speeds(at, ground, self.fps, self._speed_window)
                entry["speed_frames"] = [int(at[0]), int(at[-1])]
                entry["mean_speed_mps"] = round(travelled / seconds, 3) if seconds > 0 else 0.0
                entry["max_speed_mps"] = round(float(speeds.max()), 3) if len(speeds) else 0.0
            entry["trajectory"] = [[int(f), round(x, 1), round(y, 1)] for f, x, y in path]
            stats[track_id] = entry
        return stats

    def report(self) -> dict[str, Any]:
        """analytics.json: lines (counts, events), zones (entries, exits, occupancy, dwell) and
        tracks (span, distance, speed, trajectory)."""
        return {
            "fps": self.fps,
            "calibrated": self.scene.calibration is not None,
            "lines": {
                c.line.name: {**c.counts, "events": [e.to_json() for e in c.events]}
                for c in self.lines
            },
            "zones": {
                z.zone.name: {
                    "entries": z.entries,
                    "exits": z.exits,
                    "max_occupancy": z.max_occupancy,
                    "occupancy": [list(change) for change in z.occupancy],
                    "dwell_s": {
                        str(k): round(v / self.fps, 3) for k, v in sorted(z.dwell_frames().items())
                    },
                }
                for z in self.zones
            },
            "tracks": {str(k): v for k, v in self.track_stats().items()},
        }


def totals(report: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a report, for summary.json and the `Video Processed` event."""
    tracks = report["tracks"].values()
    out: dict[str, Any] = {
        "lines": {name: {"in": v["in"], "out": v["out"]} for name, v in report["lines"].items()},
        "zones": {
            name: {k: v[k] for k in ("entries", "exits", "max_occupancy")}
            for name, v in report["zones"].items()
        },
        "distance_px": round(sum(t["distance_px"] for t in tracks), 2),
    }
    if report["calibrated"]:
        out["distance_m"] = round(sum(t["distance_m"] for t in tracks), 3)
    return out


def analyse_rows(
    rows: np.ndarray,
    scene: Scene,
    fps: float,
    *,
    frame_size: tuple[int, int] | None = None,
    smooth_s: float = SMOOTH_S,
) -> SceneAnalytics:
    """Analytics of MOT rows (frame, id, x, y, w, h, ...), any order, e.g. a tracks or gt file,
    of frames `frame_size` (width, height) when known (see SceneAnalytics)."""
    rows = np.asarray(rows, dtype=np.float64)
    analytics = SceneAnalytics(scene, fps, frame_size=frame_size, smooth_s=smooth_s)
    if rows.size == 0:
        return analytics
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    frames = rows[:, 0].astype(np.int64)
    breaks = np.flatnonzero(np.diff(frames)) + 1
    for chunk in np.split(rows, breaks):
        analytics.update(int(chunk[0, 0]), ((int(r[1]), r[2:6]) for r in chunk))
    return analytics
