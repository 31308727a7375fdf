"""Helpers of the SageMaker contract tests: run the entry points as plain processes with every
/opt/ml path relocated (FAIRMOT_OPT_ML), on free loopback ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2

BIN = Path(sys.executable).parent
# A tiny lite model that still tracks the synthetic people: small input, a few quick epochs.
TINY_HYPERPARAMETERS = {
    "arch": "lite",
    "input_w": "160",
    "input_h": "96",
    "num_epochs": "10",
    "batch_size": "4",
    "num_workers": "0",
    "lr": "0.002",
    "lr_step": "9",
    "conf_thres": "0.2",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def opt_ml_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of an entry point whose /opt/ml is `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "FAIRMOT_"))}
    env.update({"FAIRMOT_OPT_ML": str(root), "OMP_NUM_THREADS": "1", **extra})
    return env


def write_training_config(root: Path, hyperparameters: dict[str, str]) -> None:
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    channels = {"train": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}}
    (config / "inputdataconfig.json").write_text(json.dumps(channels))


def link_dataset(root: Path, dataset: Path) -> None:
    channel = root / "input" / "data" / "train"
    channel.parent.mkdir(parents=True, exist_ok=True)
    if not channel.exists():
        channel.symlink_to(dataset, target_is_directory=True)


def run_entry_point(
    name: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def wait_for_ping(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited with {process.returncode}: {process.stderr and process.stderr.read()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # a timed-out ping: still loading (an in-memory ONNX export holds the GIL)
        time.sleep(0.1)
    raise AssertionError("serve did not become ready")


def write_video(path: Path, frames: list[Path], fps: float = 10) -> Path:
    """An mp4 (mp4v) of the given image files."""
    height, width = cv2.imread(str(frames[0])).shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    return path
