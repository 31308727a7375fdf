"""analytics.json, one CSV per table, a trajectory plot and an occupancy heat map per video."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fairmot.video.draw import SceneOverlay, colour_for_id, draw_scene

ANALYTICS_JSON = "analytics.json"
LINES_CSV = "analytics_lines.csv"
EVENTS_CSV = "analytics_line_events.csv"
ZONES_CSV = "analytics_zones.csv"
DWELL_CSV = "analytics_dwell.csv"
TRACKS_CSV = "analytics_tracks.csv"
TRAJECTORIES_PNG = "trajectories.png"
HEATMAP_PNG = "occupancy_heatmap.png"
ANALYTICS_FILES = (
    ANALYTICS_JSON,
    LINES_CSV,
    EVENTS_CSV,
    ZONES_CSV,
    DWELL_CSV,
    TRACKS_CSV,
    TRAJECTORIES_PNG,
    HEATMAP_PNG,
)
# Heat map cells: 1/40 of the longer image side, coarse enough that a few seconds of presence
# show as a blob, fine enough to tell a doorway from a shelf.
HEATMAP_CELLS = 40
TRACK_COLUMNS = (
    "track_id",
    "first_frame",
    "last_frame",
    "distance_px",
    "distance_m",
    "mean_speed_mps",
    "max_speed_mps",
)


def write_analytics(
    out_dir: Path,
    report: dict[str, Any],
    *,
    size: tuple[int, int],
    background: np.ndarray | None = None,
    overlay: SceneOverlay | None = None,
) -> list[Path]:
    """Write every analytics file of `report` (SceneAnalytics.report()) into `out_dir`.

    `size` is the video's (width, height); `background` (BGR, that size), e.g. its first frame,
    goes under the pictures, else they are drawn on grey; `overlay` (SceneAnalytics.overlay())
    draws the scene's lines and zones with their final counts on them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ANALYTICS_JSON).write_text(json.dumps(report, separators=(",", ":")) + "\n")
    lines, zones, tracks = report["lines"], report["zones"], report["tracks"]
    _csv(
        out_dir / LINES_CSV,
        ("line", "in", "out"),
        ((n, v["in"], v["out"]) for n, v in lines.items()),
    )
    _csv(
        out_dir / EVENTS_CSV,
        ("line", "track_id", "frame_id", "direction"),
        (
            (n, e["track_id"], e["frame_id"], e["direction"])
            for n, v in lines.items()
            for e in v["events"]
        ),
    )
    _csv(
        out_dir / ZONES_CSV,
        ("zone", "entries", "exits", "max_occupancy"),
        ((n, v["entries"], v["exits"], v["max_occupancy"]) for n, v in zones.items()),
    )
    _csv(
        out_dir / DWELL_CSV,
        ("zone", "track_id", "dwell_s"),
        ((n, k, s) for n, v in zones.items() for k, s in v["dwell_s"].items()),
    )
    _csv(
        out_dir / TRACKS_CSV,
        TRACK_COLUMNS,
        ((k, *(v.get(c, "") for c in TRACK_COLUMNS[1:])) for k, v in tracks.items()),
    )
    canvas = _canvas(size, background)
    if overlay is not None:
        thickness = max(1, round(min(size) / 300))
        draw_scene(canvas, overlay, thickness, max(0.35, min(size) / 1000))
    cv2.imwrite(str(out_dir / TRAJECTORIES_PNG), trajectory_plot(canvas, tracks))
    cv2.imwrite(str(out_dir / HEATMAP_PNG), occupancy_heatmap(canvas, tracks))
    return [out_dir / name for name in ANALYTICS_FILES]


def _csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _canvas(size: tuple[int, int], background: np.ndarray | None) -> np.ndarray:
    width, height = size
    if background is not None:
        # Dimmed, so the drawing on top stands out.
        return (cv2.resize(background, (width, height)) * 0.6).astype(np.uint8)
    return np.full((height, width, 3), 96, np.uint8)


def trajectory_plot(canvas: np.ndarray, tracks: dict[str, Any]) -> np.ndarray:
    """Every track's foot-point path in its id colour, with the id at its end."""
    image = canvas.copy()
    thickness = max(1, round(min(image.shape[:2]) / 300))
    for key, track in tracks.items():
        colour = colour_for_id(int(key))
        points = np.array([[x, y] for _, x, y in track["trajectory"]], dtype=np.float64)
        if len(points) == 0:
            continue
        pixels = np.round(points).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [pixels], False, colour, thickness, cv2.LINE_AA)
        end = tuple(int(v) for v in pixels[-1, 0])
        cv2.circle(image, end, thickness + 1, colour, -1, cv2.LINE_AA)
        cv2.putText(image, key, end, cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1, cv2.LINE_AA)
    return image


def occupancy_heatmap(canvas: np.ndarray, tracks: dict[str, Any]) -> np.ndarray:
    """Where people stood, weighted by time: foot points binned into cells, colour-mapped
    (blue rarely, red most) over the dimmed scene; cells nobody visited stay uncoloured."""
    height, width = canvas.shape[:2]
    cell = max(width, height) / HEATMAP_CELLS
    grid = np.zeros((int(np.ceil(height / cell)), int(np.ceil(width / cell))), np.float64)
    for track in tracks.values():
        for _, x, y in track["trajectory"]:
            row, col = int(y // cell), int(x // cell)
            if 0 <= row < grid.shape[0] and 0 <= col < grid.shape[1]:
                grid[row, col] += 1
    image = canvas.copy()
    if grid.max() <= 0:
        return image
    scaled = (255 * grid / grid.max()).astype(np.uint8)
    colours = cv2.applyColorMap(
        cv2.resize(scaled, (width, height), interpolation=cv2.INTER_NEAREST), cv2.COLORMAP_JET
    )
    visited = cv2.resize(
        (grid > 0).astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST
    )
    mask = visited.astype(bool)
    image[mask] = (0.35 * image[mask] + 0.65 * colours[mask]).astype(np.uint8)
    return image
