"""Distance and speed along a track's foot-point path, smoothed so box jitter is not motion.

A box's bottom centre wobbles by a few pixels each frame; summed over a path that wobble adds
length, and differenced over one frame it reads as sprinting. Positions are therefore averaged
over a short centred window, lengths are summed over steps one window apart, and speeds are
displacements over a longer window.
"""

from __future__ import annotations

import numpy as np

# Centred moving-average window for positions: a couple of steps of a walking person, the
# period of the foot point's sway, and long enough to average out a detector's frame-to-frame
# box noise (bench/analytics.py, held-out video, lite model: median tracked/true mean speed 1.11
# with 0.5 s, 1.08 with 1 s).
SMOOTH_S = 1.0
# Speeds are displacement over this long a span: short enough to see a stop, long enough that
# the smoothed position's residual wobble is small against a walking person's travel.
SPEED_WINDOW_S = 1.0


def window_frames(seconds: float, fps: float) -> int:
    """A window of `seconds` at `fps` in whole frames (at least 1)."""
    return max(1, round(seconds * fps))


def smooth(points: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of (N, 2) points over `window` samples; within half a window of
    either end, where no centred window fits, the points of a straight line fitted to the
    first (last) window instead. A shrinking centred window would leave the end points nearly
    raw, and their jitter then reads as motion on a slow walker's first and last steps; the
    line keeps a steady walk's ends where they were, with a fraction of the jitter."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    if n == 0 or window <= 1:
        return pts.copy()
    half = window // 2
    if n <= 2 * half + 1:
        return _line_fit(pts, np.arange(n), np.arange(n))
    inner = np.arange(half, n - half)
    cumulative = np.concatenate([np.zeros((1, 2)), np.cumsum(pts, axis=0)])
    out = np.empty_like(pts)
    out[inner] = (cumulative[inner + half + 1] - cumulative[inner - half]) / (2 * half + 1)
    span = np.arange(2 * half + 1)
    out[:half] = _line_fit(pts[: 2 * half + 1], span, span[:half])
    out[n - half :] = _line_fit(pts[n - 2 * half - 1 :], span, span[half + 1 :])
    return out


def _line_fit(points: np.ndarray, at: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Least-squares straight line through `points` sampled at `at`, evaluated at `where`."""
    design = np.stack([np.ones(len(at)), at.astype(np.float64)], axis=1)
    coef, *_ = np.linalg.lstsq(design, points, rcond=None)
    return np.stack([np.ones(len(where)), where.astype(np.float64)], axis=1) @ coef


def path_length(points: np.ndarray, stride: int = 1) -> float:
    """Sum of the straight steps between every `stride`-th point, the last point included.

    Steps of one frame each add the smoothed path's residual wobble every frame, so a slow or
    standing person's length grows with time rather than with the ground covered (bench/
    analytics.py: the slow walkers were the tracks outside 15%); steps one smoothing window
    apart add it once a window, and a walker's path is nearly straight within one."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return 0.0
    pts = pts[np.unique(np.r_[np.arange(0, len(pts), stride), len(pts) - 1])]
    return float(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))


def windowed_speeds(frames: np.ndarray, points: np.ndarray, fps: float, window: int) -> np.ndarray:
    """Speed (units per second) over each span of `window` frames along the path; one value
    for the whole path when it is shorter than that."""
    frames = np.asarray(frames, dtype=np.float64)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return np.zeros(0)
    # Index of the first sample at least `window` frames after each sample.
    later = np.searchsorted(frames, frames + window)
    valid = later < len(frames)
    if not valid.any():
        start, end = np.array([0]), np.array([len(frames) - 1])
    else:
        start, end = np.nonzero(valid)[0], later[valid]
    steps = np.linalg.norm(pts[end] - pts[start], axis=1)
    return steps * fps / (frames[end] - frames[start])
