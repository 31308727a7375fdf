"""Letterbox geometry with hand-computed values."""

import cv2
import numpy as np
import pytest

from fairmot.letterbox import Letterbox, letterbox, to_network_input


def test_wide_input_pads_left_and_right():
    image = np.zeros((48, 64, 3), np.uint8)
    out, box = letterbox(image, 160, 96)
    # scale = min(160/64, 96/48) = 2 -> 128x96 placed at x = (160-128)/2 = 16
    assert box == Letterbox(
        scale=2.0, pad_x=16.0, pad_y=0.0, out_w=160, out_h=96, src_w=64, src_h=48
    )
    assert out.shape == (96, 160, 3) and out.dtype == np.uint8
    assert (out[:, :16] == 128).all() and (out[:, 144:] == 128).all()
    assert (out[:, 16:144] == 0).all()


def test_full_hd_to_reference_input_size():
    _, box = letterbox(np.zeros((1080, 1920, 3), np.uint8), 1088, 608)
    # scale = min(1088/1920, 608/1080) = 0.562963; width 1920*s = 1080.9 -> 1081, pad (1088-1081)//2
    assert box.scale == pytest.approx(608 / 1080)
    assert (box.pad_x, box.pad_y) == (3.0, 0.0)


def test_boxes_map_into_the_input_and_back():
    _, box = letterbox(np.zeros((48, 64, 3), np.uint8), 160, 96)
    original = np.array([[10, 8, 22, 38]], np.float32)
    moved = box.to_input(original)
    np.testing.assert_allclose(moved, [[36, 16, 60, 76]])
    np.testing.assert_allclose(box.to_original(moved), original)


def test_to_original_keeps_amodal_boxes_past_every_border():
    box = Letterbox(scale=2.0, pad_x=16.0, pad_y=4.0, out_w=160, out_h=104, src_w=64, src_h=48)
    # x' = (x - 16) / 2, y' = (y - 4) / 2; nothing is clipped to the 64x48 image.
    inputs = np.array([[0, 0, 160, 104], [6, 20, 30, 40], [140, 90, 150, 110]], np.float32)
    expected = [[-8, -2, 72, 50], [-5, 8, 7, 18], [62, 43, 67, 53]]
    np.testing.assert_allclose(box.to_original(inputs), expected)


def test_sliver_image_keeps_at_least_one_pixel_row():
    # 4000x2 into 320x192: scale 0.08 would round the height to 0 rows and crash cv2.resize.
    out, box = letterbox(np.zeros((2, 4000, 3), np.uint8), 320, 192)
    assert out.shape == (192, 320, 3)
    assert (box.pad_x, box.pad_y) == (0.0, 95.0)
    assert (out[95] == 0).all() and (out[94] == 128).all() and (out[96] == 128).all()


def _noise(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_half_size_and_below_are_area_averages_as_the_reference() -> None:
    # At scale 1/2 bilinear samples average each 2x2 block: the reference's INTER_AREA exactly.
    image = _noise(96, 128)
    for out_w, out_h in ((64, 48), (32, 24)):
        out, _ = letterbox(image, out_w, out_h)
        area = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(out, area)


def test_between_half_and_full_size_is_bilinear_inside_the_padding() -> None:
    image = _noise(54, 96)  # scale 2/3: 64x36, padded 2 rows above and below
    out, box = letterbox(image, 64, 40)
    assert (box.scale, box.pad_x, box.pad_y) == (pytest.approx(2 / 3), 0.0, 2.0)
    bilinear = cv2.resize(image, (64, 36), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(out[2:38], bilinear)
    assert (out[:2] == 128).all() and (out[38:] == 128).all()


def test_network_input_is_rgb_scaled_and_channels_first():
    blue_bgr = np.zeros((4, 6, 3), np.uint8)
    blue_bgr[..., 0] = 255
    batch = to_network_input([blue_bgr, blue_bgr])
    assert batch.shape == (2, 3, 4, 6) and batch.dtype == np.float32
    assert (batch[:, 2] == 1.0).all() and (batch[:, 0] == 0.0).all()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="positive"):
        letterbox(np.zeros((0, 5, 3), np.uint8), 32, 32)
    with pytest.raises(ValueError):
        to_network_input([])
