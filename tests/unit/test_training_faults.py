"""Damage a training job meets on disk: images cut short, checkpoint writes cut short."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fairmot.data.dataset import read_image
from fairmot.data.errors import DatasetError
from fairmot.train.checkpoints import (
    TrainingState,
    list_checkpoints,
    remove_partial_checkpoints,
    save_checkpoint,
)


@pytest.mark.parametrize("extension", [".jpg", ".png"])
def test_an_image_cut_in_half_fails_naming_the_file(tmp_path: Path, extension: str) -> None:
    image = np.random.default_rng(0).integers(0, 255, (96, 160, 3), np.uint8)
    data = cv2.imencode(extension, image)[1].tobytes()
    whole, cut = tmp_path / f"000001{extension}", tmp_path / f"000002{extension}"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) // 2])
    assert read_image(whole).shape == (96, 160, 3)
    with pytest.raises(DatasetError, match="truncated") as caught:
        read_image(cut)
    assert str(cut) in str(caught.value)
    with pytest.raises(DatasetError, match="cannot read"):
        read_image(tmp_path / "missing.jpg")


def test_a_checkpoint_write_cut_short_is_removed_and_whole_ones_kept(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 2)
    saved = save_checkpoint(tmp_path, TrainingState(epochs_done=1), {"model": model})
    cut = tmp_path / "checkpoint-e0002-s0000000.pt.tmp"
    cut.write_bytes(saved.read_bytes()[:100])
    assert remove_partial_checkpoints(tmp_path) == [cut]
    assert not cut.exists() and list_checkpoints(tmp_path) == [saved]
    assert remove_partial_checkpoints(tmp_path / "none") == []
