"""Tiny data for the SDK tests: an untrained model artifact and a short video (made in .venv)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
# Local mode and `serve` need torch, which .venv-sdk does not have: they run from .venv.
MAIN_PYTHON = Path(os.environ.get("FAIRMOT_MAIN_PYTHON", REPO / ".venv" / "bin" / "python"))


def tiny_model(out: Path) -> Path:
    code = (
        "import sys; from pathlib import Path; from fairmot.model import ModelCard, build_model, "
        "save_artifact; card = ModelCard(arch='lite', input_w=160, input_h=96, nID=4); "
        "save_artifact(build_model(card), card, Path(sys.argv[1]), tarball=True)"
    )
    subprocess.run([str(MAIN_PYTHON), "-c", code, str(out)], check=True, timeout=120)
    return out / "model.tar.gz"


def tiny_video(path: Path, frames: int = 6) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 96))
    for i in range(frames):
        image = np.full((96, 160, 3), 120, np.uint8)
        cv2.rectangle(image, (20 + 5 * i, 20), (40 + 5 * i, 80), (30, 30, 200), -1)
        writer.write(image)
    writer.release()
    return path


# 1 epoch of the lite network on 20 images of 160x96 (as tests/workflow): seconds on 2 cores.
TINY_HYPERPARAMETERS = {
    "arch": "lite", "input_w": "160", "input_h": "96", "num_epochs": "1",
    "batch_size": "10", "num_workers": "0", "lr": "1e-3",
}  # fmt: skip
