"""The training dataset on a 20-frame 160x96 synthetic sequence."""

import numpy as np
import pytest
import torch

from fairmot.data import DatasetError, build_training_set, generate_dataset


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    return generate_dataset(out, sequences=1, frames=20, width=160, height=96, seed=5)


def test_items_have_the_documented_layout(synth_dir):
    ds = build_training_set(synth_dir, 128, 64, half_val=False, augment=True)
    assert len(ds) == ds.num_samples == 20 and ds.nID > 0
    item = ds[0]
    shapes = {k: v.shape for k, v in item.items()}
    assert shapes == {
        "input": (3, 64, 128),
        "hm": (1, 16, 32),
        "reg_mask": (500,),
        "ind": (500,),
        "wh": (500, 4),
        "reg": (500, 2),
        "ids": (500,),
        "cls": (500,),
    }
    assert (
        item["input"].dtype == np.float32 and 0 <= item["input"].min() <= item["input"].max() <= 1
    )
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    assert batch["input"].shape == (2, 3, 64, 128) and batch["ids"].dtype == torch.int64


def test_targets_without_augmentation_decode_to_the_labels(synth_dir):
    ds = build_training_set(synth_dir, 160, 96, half_val=False, augment=False)
    item = ds[3]
    sample = ds.samples[3]
    n = int(item["reg_mask"].sum())
    assert n == len(sample.labels) > 0
    ind, reg, wh = item["ind"][:n], item["reg"][:n], item["wh"][:n]
    cx, cy = ind % 40 + reg[:, 0], ind // 40 + reg[:, 1]
    boxes = np.c_[cx - wh[:, 0], cy - wh[:, 1], cx + wh[:, 2], cy + wh[:, 3]] * 4
    lab = sample.labels
    expected = np.c_[
        (lab[:, 2] - lab[:, 4] / 2) * 160,
        (lab[:, 3] - lab[:, 5] / 2) * 96,
        (lab[:, 2] + lab[:, 4] / 2) * 160,
        (lab[:, 3] + lab[:, 5] / 2) * 96,
    ]
    np.testing.assert_allclose(boxes, expected, atol=1e-3)
    assert (item["hm"][0].reshape(-1)[ind] == 1.0).all()
    assert item["ids"][:n].tolist() == lab[:, 1].astype(int).tolist()


def test_augmentation_is_keyed_by_seed_epoch_and_index_only(synth_dir):
    ds = build_training_set(synth_dir, 160, 96, half_val=True, augment=True, seed=3)
    assert len(ds) == 10
    first = ds[0]["input"]
    # Other draws in between (another worker, another order) do not change an image's draw.
    ds[1]
    torch.manual_seed(123)
    np.testing.assert_array_equal(ds[0]["input"], first)
    ds.set_epoch(1)
    assert not np.array_equal(ds[0]["input"], first)
    other_seed = build_training_set(synth_dir, 160, 96, half_val=True, augment=True, seed=4)
    assert not np.array_equal(other_seed[0]["input"], first)


def test_corrupt_image_is_named(synth_dir, tmp_path):
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(synth_dir, copy)
    bad = next((copy / "SYN5-01" / "img1").glob("000004.jpg"))
    bad.write_bytes(b"not a jpeg")
    ds = build_training_set(copy, 160, 96, half_val=False, augment=False)
    with pytest.raises(DatasetError, match=r"000004\.jpg: cannot read image"):
        ds[3]
