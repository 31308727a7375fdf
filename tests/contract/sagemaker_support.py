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
# FAIRMOT_TRACKER of the test `serve` process (conftest.serve_url).
SERVE_TRACKER = "fairmot"

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


def jpeg_bomb(width: int, height: int) -> bytes:
    """A real, decodable JPEG of a few hundred bytes declaring width x height pixels: a small
    image's frame header rewritten, as a decompression bomb is made (libjpeg pads the missing
    data with grey, after allocating the whole image)."""
    import numpy as np

    data = bytearray(cv2.imencode(".jpg", np.full((16, 16, 3), 90, np.uint8))[1].tobytes())
    sof = data.find(b"\xff\xc0")  # baseline start of frame: FF C0, length, precision, h, w
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def random_model(out_dir: Path, width: int = 160, height: int = 96) -> Path:
    """A random-init lite artifact: what the endpoint's fault tests serve (no training needed)."""
    import torch

    from fairmot.model import ModelCard, build_model, save_artifact

    card = ModelCard(arch="lite", input_w=width, input_h=height)
    torch.manual_seed(0)
    return save_artifact(build_model(card).eval(), card, out_dir)


def process_status(pid: int) -> dict[str, int]:
    """Threads and peak/current resident memory (KiB) of a running process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Threads", "VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


def wait_for_sigterm_handler(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Block until `process` catches SIGTERM (its SigCgt mask in /proc): the earliest moment a
    stop can be handled, which the entry points reach before loading anything."""
    import signal

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:") and int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1:
                return
        time.sleep(0.002)
    raise AssertionError("the process never installed a SIGTERM handler")
