"""Draw tracks on frames: a box and id label per track, a colour stable per id, short trails."""

from __future__ import annotations

import colorsys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

# Golden-ratio hue steps spread consecutive ids far apart on the colour wheel.
GOLDEN_RATIO_CONJUGATE = 0.618033988749895
# Trail length in frames: about half a second at 25-30 fps, enough to show direction.
TRAIL_LENGTH = 15
FONT = cv2.FONT_HERSHEY_SIMPLEX


Point = tuple[float, float]


@dataclass(frozen=True)
class LineOverlay:
    """A counting line as drawn: directed p1 -> p2, with its counts so far."""

    name: str
    p1: Point
    p2: Point
    count_in: int
    count_out: int


@dataclass(frozen=True)
class ZoneOverlay:
    """A zone as drawn: its outline and how many tracks are in it now."""

    name: str
    polygon: tuple[Point, ...]
    occupancy: int


@dataclass(frozen=True)
class SceneOverlay:
    """The analytics drawn on one frame: lines and zones with live counts, and each track's
    speed in m/s (calibrated scenes only)."""

    lines: tuple[LineOverlay, ...] = ()
    zones: tuple[ZoneOverlay, ...] = ()
    speeds: dict[int, float] = field(default_factory=dict)


# Scene drawing: white lines and yellow zones read on any background.
LINE_COLOUR = (255, 255, 255)
ZONE_COLOUR = (0, 215, 255)


@dataclass(frozen=True)
class TrackBox:
    """What is drawn for one track: its id, xyxy box in frame pixels and score."""

    track_id: int
    box: tuple[float, float, float, float]
    score: float


def colour_for_id(track_id: int) -> tuple[int, int, int]:
    """A bright BGR colour that depends only on the id (the same in every frame and run)."""
    # The golden-ratio walk is a hash of the id onto the hue circle whose neighbours stay apart.
    hue = (track_id * GOLDEN_RATIO_CONJUGATE) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(blue * 255), int(green * 255), int(red * 255)


class Annotator:
    """Draws one frame after another, remembering recent centres of each track for its trail."""

    def __init__(self, trail_length: int = TRAIL_LENGTH) -> None:
        self.trail_length = trail_length
        self._trails: dict[int, deque[tuple[int, int]]] = {}
        self._last_seen: dict[int, int] = {}
        self._frame = 0

    def draw(
        self,
        frame_bgr: np.ndarray,
        tracks: Sequence[TrackBox],
        overlay: SceneOverlay | None = None,
    ) -> np.ndarray:
        """Draw on (and return) `frame_bgr` in place; `overlay` adds lines, zones and speeds."""
        self._frame += 1
        thickness = max(1, round(min(frame_bgr.shape[:2]) / 300))
        font_scale = max(0.35, min(frame_bgr.shape[:2]) / 1000)
        if overlay is not None:
            draw_scene(frame_bgr, overlay, thickness, font_scale)
        for track in tracks:
            x1, y1, x2, y2 = (round(float(v)) for v in track.box)
            colour = colour_for_id(track.track_id)
            trail = self._trails.setdefault(track.track_id, deque(maxlen=self.trail_length))
            trail.append(((x1 + x2) // 2, (y1 + y2) // 2))
            self._last_seen[track.track_id] = self._frame
            if len(trail) > 1:
                points = np.array(trail, dtype=np.int32).reshape(-1, 1, 2)
                cv2.polylines(frame_bgr, [points], False, colour, thickness, cv2.LINE_AA)
            cv2.rectangle(frame_bgr, (x1, y1), (x2, y2), colour, thickness)
            label = str(track.track_id)
            (tw, th), base = cv2.getTextSize(label, FONT, font_scale, thickness)
            # Boxes are amodal (may reach past the frame): keep the id label on the picture.
            top = max(y1 - th - base, 0)
            left = max(x1, 0)
            cv2.rectangle(frame_bgr, (left, top), (left + tw + 2, top + th + base), colour, -1)
            cv2.putText(
                frame_bgr, label, (left + 1, top + th), FONT, font_scale, (0, 0, 0), thickness
            )
            speed = overlay.speeds.get(track.track_id) if overlay is not None else None
            if speed is not None:
                _label(frame_bgr, f"{speed:.1f} m/s", (x1, y2), colour, font_scale, thickness)
        self._forget_stale()
        return frame_bgr

    def _forget_stale(self) -> None:
        # A trail whose track has been gone for a trail's length has nothing left to show.
        stale = [i for i, seen in self._last_seen.items() if self._frame - seen > self.trail_length]
        for track_id in stale:
            del self._trails[track_id], self._last_seen[track_id]


def _label(
    frame_bgr: np.ndarray,
    text: str,
    at: tuple[int, int],
    colour: tuple[int, int, int],
    font_scale: float,
    thickness: int,
) -> None:
    """Text on a filled box whose top-left corner is `at` (kept inside the frame)."""
    (tw, th), base = cv2.getTextSize(text, FONT, font_scale, thickness)
    h, w = frame_bgr.shape[:2]
    x = min(max(at[0], 0), max(w - tw - 2, 0))
    y = min(max(at[1], 0), max(h - th - base, 0))
    cv2.rectangle(frame_bgr, (x, y), (x + tw + 2, y + th + base), colour, -1)
    cv2.putText(frame_bgr, text, (x + 1, y + th), FONT, font_scale, (0, 0, 0), thickness)


def draw_scene(
    frame_bgr: np.ndarray, overlay: SceneOverlay, thickness: int, font_scale: float
) -> None:
    """Zones as outlines with their occupancy, lines as arrows p1 -> p2 with in/out counts."""
    for zone in overlay.zones:
        points = np.round(np.array(zone.polygon)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(frame_bgr, [points], True, ZONE_COLOUR, thickness, cv2.LINE_AA)
        corner = points[:, 0].min(axis=0)
        text = f"{zone.name}: {zone.occupancy}"
        _label(
            frame_bgr, text, (int(corner[0]), int(corner[1])), ZONE_COLOUR, font_scale, thickness
        )
    for line in overlay.lines:
        p1 = (round(line.p1[0]), round(line.p1[1]))
        p2 = (round(line.p2[0]), round(line.p2[1]))
        # The arrow head shows the direction that defines in (left -> right of it).
        cv2.arrowedLine(frame_bgr, p1, p2, LINE_COLOUR, thickness, cv2.LINE_AA, tipLength=0.05)
        text = f"{line.name} in {line.count_in} out {line.count_out}"
        middle = ((p1[0] + p2[0]) // 2, (p1[1] + p2[1]) // 2)
        _label(frame_bgr, text, middle, LINE_COLOUR, font_scale, thickness)
