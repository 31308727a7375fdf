"""Augmentation geometry: boxes follow the warped image, stay amodal, and the reference's rules."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fairmot.data.augment import AugmentConfig, hflip, random_affine
from fairmot.data.dataset import TrainingSet
from fairmot.data.labels import Sample

W, H = 160, 96
NO_WARP = AugmentConfig(degrees=0.0, translate=0.0, scale=(1.0, 1.0), shear=0.0)


def white_box_image(box: tuple[int, int, int, int]) -> np.ndarray:
    image = np.zeros((H, W, 3), np.uint8)
    x0, y0, x1, y1 = box
    cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), (255, 255, 255), thickness=-1)
    return image


def white_extent(image: np.ndarray) -> np.ndarray:
    """xyxy of the pixels brighter than mid-grey (the warped rectangle as the image shows it)."""
    ys, xs = np.nonzero(image[..., 0] > 191)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def test_reference_values_are_the_defaults() -> None:
    cfg = AugmentConfig()
    assert (cfg.degrees, cfg.translate, cfg.scale, cfg.shear) == (5.0, 0.1, (0.5, 1.2), 2.0)
    assert (cfg.min_size, cfg.min_area_ratio, cfg.max_aspect) == (4.0, 0.1, 10.0)


@pytest.mark.parametrize("seed", range(8))
def test_boxes_follow_the_warped_image_without_rotation(seed: int) -> None:
    # Scale and shift only: the warped box is exactly where the rectangle went.
    cfg = AugmentConfig(degrees=0.0, shear=0.0, scale=(0.6, 1.3), translate=0.2)
    box = (4, 20, 44, 80)  # near the left border: some warps push it past
    image, boxes, keep = random_affine(
        white_box_image(box), np.array([box], np.float32), np.random.default_rng(seed), cfg
    )
    assert keep.tolist() == [0]
    visible = boxes[0].copy()
    visible[[0, 2]] = visible[[0, 2]].clip(0, W)
    visible[[1, 3]] = visible[[1, 3]].clip(0, H)
    np.testing.assert_allclose(white_extent(image), visible, atol=1.5)


def test_a_box_pushed_past_the_border_keeps_its_full_extent() -> None:
    cfg = AugmentConfig(degrees=0.0, shear=0.0, scale=(1.0, 1.0), translate=0.2)
    box = (4, 20, 44, 80)
    crossed = []
    for seed in range(40):
        image, boxes, keep = random_affine(
            white_box_image(box), np.array([box], np.float32), np.random.default_rng(seed), cfg
        )
        if len(keep) and boxes[0, 0] < -2:
            crossed.append(seed)
            # Unit scale: the amodal box keeps the rectangle's 40x60 size, not the visible part.
            np.testing.assert_allclose(boxes[0, 2:] - boxes[0, :2], [40, 60], atol=1e-3)
            assert white_extent(image)[0] == 0
    assert crossed


@pytest.mark.parametrize("seed", range(6))
def test_rotated_boxes_keep_the_centre_and_shrink_by_the_reference_rule(seed: int) -> None:
    cfg = AugmentConfig(degrees=5.0, shear=0.0, scale=(1.0, 1.0), translate=0.0)
    box = (60, 20, 100, 80)
    image, boxes, _ = random_affine(
        white_box_image(box), np.array([box], np.float32), np.random.default_rng(seed), cfg
    )
    extent = white_extent(image)
    np.testing.assert_allclose(
        (boxes[0, :2] + boxes[0, 2:]) / 2, (extent[:2] + extent[2:]) / 2, atol=1.0
    )
    # The corner box of a rotated 40x60 rectangle, times sqrt(cos a) (the reference's shrink).
    angle = np.random.default_rng(seed).uniform(-5.0, 5.0)
    a = np.radians(angle)
    corner_w = 40 * np.cos(a) + 60 * abs(np.sin(a))
    corner_h = 60 * np.cos(a) + 40 * abs(np.sin(a))
    shrink = np.sqrt(max(abs(np.sin(a)), abs(np.cos(a))))
    np.testing.assert_allclose(
        boxes[0, 2:] - boxes[0, :2], [corner_w * shrink, corner_h * shrink], rtol=1e-4
    )


def test_the_reference_rules_drop_tiny_thin_and_outside_boxes() -> None:
    boxes = np.array(
        [
            [10, 10, 40, 70],  # kept
            [50, 10, 53, 40],  # 3 px wide: under min_size 4
            [60, 10, 65, 70],  # 5x60: aspect 12 > 10
            [-30, 10, -2, 60],  # entirely left of the image
            [150, 90, 190, 140],  # crosses the bottom-right corner: kept, amodal
        ],
        np.float32,
    )
    image = np.zeros((H, W, 3), np.uint8)
    _, kept, keep = random_affine(image, boxes, np.random.default_rng(0), NO_WARP)
    assert keep.tolist() == [0, 4]
    np.testing.assert_allclose(kept, boxes[[0, 4]], atol=1e-4)


def test_flip_mirrors_boxes_with_the_image() -> None:
    box = (4, 20, 44, 80)
    image, boxes = hflip(white_box_image(box), np.array([box], np.float32))
    np.testing.assert_allclose(boxes[0], [W - 44, 20, W - 4, 80])
    np.testing.assert_allclose(white_extent(image), boxes[0])


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="scale range"):
        AugmentConfig(scale=(1.2, 0.5))
    with pytest.raises(ValueError, match="flip probability"):
        AugmentConfig(flip=1.5)


def test_unaugmented_items_have_amodal_targets_and_drop_boxes_outside(tmp_path) -> None:
    path = tmp_path / "000001.jpg"
    cv2.imwrite(str(path), np.zeros((32, 64, 3), np.uint8))
    # class id cx cy w h, normalised to the 64x32 image (= the input: no letterbox change).
    xyxy = np.array([[-8, 4, 8, 28], [56, 4, 72, 28], [-30, 4, -10, 28]], np.float32)
    labels = np.c_[
        np.zeros(3),
        [5, 6, 7],
        (xyxy[:, 0] + xyxy[:, 2]) / 2 / 64,
        (xyxy[:, 1] + xyxy[:, 3]) / 2 / 32,
        (xyxy[:, 2] - xyxy[:, 0]) / 64,
        (xyxy[:, 3] - xyxy[:, 1]) / 32,
    ].astype(np.float32)
    item = TrainingSet([Sample(path, 64, 32, labels)], 8, 64, 32, augment=False)[0]
    assert item["reg_mask"][:3].tolist() == [1, 1, 0]
    assert item["ids"][:3].tolist() == [5, 6, -1]
    assert item["ind"][:2].tolist() == [4 * 16 + 0, 4 * 16 + 15]
    np.testing.assert_allclose(item["wh"][:2], [[2, 3, 2, 3], [1, 3, 3, 3]], atol=1e-5)
