"""CenterNet targets: radius, Gaussian splats and the per-object target layout."""

import numpy as np
import pytest

from fairmot.data.targets import build_targets, draw_gaussian, gaussian_radius


def test_gaussian_radius_matches_centernet_formula():
    # 10x10 box, overlap 0.7: the third case wins: a=2.8, b=-2*0.7*20=-28, c=-30,
    # (b + sqrt(b^2 - 4ac)) / 2 = (-28 + sqrt(784 + 336)) / 2 = 2.7332
    assert gaussian_radius(10, 10) == pytest.approx(2.7332, abs=1e-4)


def test_gaussian_peak_and_border_clipping():
    hm = np.zeros((8, 8), np.float32)
    draw_gaussian(hm, (0, 0), 2)
    assert hm[0, 0] == 1.0 and hm[0, 2] > 0 and hm[0, 3] == 0
    draw_gaussian(hm, (7, 7), 3)
    assert hm[7, 7] == 1.0
    # sigma = 7/6: one pixel off the peak is exp(-1 / (2 * (7/6)^2))
    assert hm[7, 6] == pytest.approx(np.exp(-1 / (2 * (7 / 6) ** 2)), rel=1e-5)


def test_one_box_target_layout():
    # input 64x32, box (8,4)-(24,28) -> output stride 4: (2,1)-(6,7), centre (4,4)
    t = build_targets(np.array([[8, 4, 24, 28]], np.float32), np.array([7]), np.array([0]), 64, 32)
    assert t["hm"].shape == (1, 8, 16)
    assert t["hm"][0, 4, 4] == 1.0 and t["hm"].max() == 1.0
    assert t["reg_mask"][:2].tolist() == [1, 0] and t["reg_mask"].shape == (500,)
    assert t["ind"][0] == 4 * 16 + 4
    np.testing.assert_allclose(t["wh"][0], [2, 3, 2, 3])
    np.testing.assert_allclose(t["reg"][0], [0, 0])
    assert t["ids"][0] == 7 and t["ids"][1] == -1
    assert {k: v.dtype.name for k, v in t.items()} == {
        "hm": "float32",
        "reg_mask": "uint8",
        "ind": "int64",
        "wh": "float32",
        "reg": "float32",
        "ids": "int64",
        "cls": "int64",
    }


def test_subpixel_centre_goes_to_offset():
    t = build_targets(
        np.array([[10, 10, 20, 30]], np.float32), np.array([0]), np.array([0]), 64, 64
    )
    # centre (15,20)/4 = (3.75, 5): cell (3,5), offset (0.75, 0)
    assert t["ind"][0] == 5 * 16 + 3
    np.testing.assert_allclose(t["reg"][0], [0.75, 0])
    np.testing.assert_allclose(t["wh"][0], [1.25, 2.5, 1.25, 2.5])


# Input 64x32 -> output 16x8 at stride 4. Boxes crossing each border keep their full extent:
# the centre is clipped into the map, the ltrb sides reach the unclipped edges (the reference's
# bbox_amodal), the Gaussian radius comes from the full size.
BORDER_CASES = [
    # box (input px), centre cell (x, y), ltrb at stride 4, sub-cell offset
    ((-8, 4, 8, 28), (0, 4), (2, 3, 2, 3), (0, 0)),  # left edge, centre on the border
    ((-16, 4, 4, 28), (0, 4), (4, 3, 1, 3), (0, 0)),  # left, centre outside: clipped to 0
    ((56, 4, 72, 28), (15, 4), (1, 3, 3, 3), (0, 0)),  # right, centre 16 clipped to 15
    ((8, -8, 24, 8), (4, 0), (2, 2, 2, 2), (0, 0)),  # top
    ((8, 24, 24, 40), (4, 7), (2, 1, 2, 3), (0, 0)),  # bottom, centre 8 clipped to 7
    ((-20, 2, 6, 18), (0, 2), (5, 2, 1.5, 2), (0, 0.5)),  # centre (-1.75, 2.5) -> (0, 2.5)
]


@pytest.mark.parametrize(("box", "cell", "ltrb", "offset"), BORDER_CASES)
def test_boxes_crossing_a_border_get_amodal_targets(box, cell, ltrb, offset):
    t = build_targets(np.array([box], np.float32), np.array([3]), np.array([0]), 64, 32)
    cx, cy = cell
    assert t["ind"][0] == cy * 16 + cx and t["reg_mask"][0] == 1
    assert t["hm"][0, cy, cx] == 1.0
    np.testing.assert_allclose(t["wh"][0], ltrb)
    np.testing.assert_allclose(t["reg"][0], offset)
    x0, y0, x1, y1 = (v / 4 for v in box)
    radius = max(0, int(gaussian_radius(np.ceil(y1 - y0), np.ceil(x1 - x0))))
    expected = np.zeros((8, 16), np.float32)
    draw_gaussian(expected, cell, radius)
    np.testing.assert_array_equal(t["hm"][0], expected)
