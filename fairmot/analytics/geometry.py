"""Plane geometry of scene files: sides of directed lines, polygons, ground-plane homographies.

Image coordinates are pixels with y pointing down, as everywhere in the project. Everything
here is plain numpy on float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]


def cross(origin: Point, towards: Point, point: Point) -> float:
    """cross(towards - origin, point - origin): its sign says which side of the directed line
    origin->towards `point` is on (zero: on the line)."""
    return (towards[0] - origin[0]) * (point[1] - origin[1]) - (towards[1] - origin[1]) * (
        point[0] - origin[0]
    )


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ab and cd share a point (touching and collinear overlap included)."""
    d1, d2 = cross(c, d, a), cross(c, d, b)
    d3, d4 = cross(a, b, c), cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True

    def on_segment(p: Point, q: Point, r: Point) -> bool:
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    return (
        (d1 == 0 and on_segment(c, d, a))
        or (d2 == 0 and on_segment(c, d, b))
        or (d3 == 0 and on_segment(a, b, c))
        or (d4 == 0 and on_segment(a, b, d))
    )


def crossing_parameter(p1: Point, p2: Point, a: Point, b: Point) -> float:
    """Where the path a->b meets the infinite line through p1, p2, as a fraction t of p1->p2
    (t in [0, 1]: within the segment). `a` and `b` must be on strictly opposite sides."""
    side_a, side_b = cross(p1, p2, a), cross(p1, p2, b)
    s = side_a / (side_a - side_b)
    meet = (a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]))
    dx, dy = p2[0] - p1[0], p2[1] - p1[1]
    return ((meet[0] - p1[0]) * dx + (meet[1] - p1[1]) * dy) / (dx * dx + dy * dy)


def self_intersection(polygon: Sequence[Point]) -> tuple[int, int] | None:
    """The first pair of edges (by index; edge i runs from vertex i to i+1) that meet other
    than at a shared vertex, or None for a simple polygon."""
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            adjacent = j == i + 1 or (i == 0 and j == n - 1)
            if adjacent:
                # Neighbours share a vertex; they only overlap if one folds back onto the other.
                shared = edges[i][1] if j == i + 1 else edges[i][0]
                other_i = edges[i][0] if j == i + 1 else edges[i][1]
                other_j = edges[j][1] if j == i + 1 else edges[j][0]
                if cross(shared, other_i, other_j) == 0 and _same_direction(
                    shared, other_i, other_j
                ):
                    return i, j
                continue
            if segments_intersect(*edges[i], *edges[j]):
                return i, j
    return None


def _same_direction(origin: Point, a: Point, b: Point) -> bool:
    return (a[0] - origin[0]) * (b[0] - origin[0]) + (a[1] - origin[1]) * (b[1] - origin[1]) > 0


def inside_polygon(polygon: Sequence[Point], point: Point) -> bool:
    """Even-odd rule (ray casting to +x); points on the boundary may fall either way."""
    x, y = point
    inside = False
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def distance_to_boundary(polygon: Sequence[Point], point: Point) -> float:
    """Euclidean distance from `point` to the nearest edge of `polygon`."""
    p = np.asarray(point, dtype=np.float64)
    a = np.asarray(polygon, dtype=np.float64)
    b = np.roll(a, -1, axis=0)
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
    nearest = a + t[:, None] * ab
    return float(np.min(np.linalg.norm(nearest - p, axis=1)))


def fit_homography(image: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """The 3x3 homography H with ground ~ H @ [u, v, 1], least squares over >= 4 pairs.

    Direct linear transform on Hartley-normalised points (centred, mean distance sqrt 2), which
    keeps the SVD well conditioned for pixel-sized and metre-sized coordinates alike. Raises
    ValueError when the points do not determine one (three or more of four collinear).
    """
    src_t, src = _normalise(np.asarray(image, dtype=np.float64))
    dst_t, dst = _normalise(np.asarray(ground, dtype=np.float64))
    rows = []
    for (u, v), (x, y) in zip(src, dst, strict=True):
        rows.append([-u, -v, -1, 0, 0, 0, x * u, x * v, x])
        rows.append([0, 0, 0, -u, -v, -1, y * u, y * v, y])
    a = np.asarray(rows)
    _, singular, vt = np.linalg.svd(a)
    # With exactly 4 pairs the 8x9 system has a 1-d null space unless the points are degenerate;
    # a second near-zero singular value means a family of solutions.
    if singular[7] < 1e-9 * singular[0]:
        raise ValueError("the calibration points are degenerate (collinear): no homography")
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(dst_t) @ h @ src_t
    if abs(h[2, 2]) < 1e-12:
        raise ValueError("the calibration maps a point to infinity: check the points")
    return h / h[2, 2]


def _normalise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = points.mean(axis=0)
    spread = np.mean(np.linalg.norm(points - centre, axis=1))
    scale = np.sqrt(2.0) / spread if spread > 0 else 1.0
    t = np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])
    return t, (points - centre) * scale


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) image points -> (N, 2) ground points."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ h.T
    return mapped[:, :2] / mapped[:, 2:3]
