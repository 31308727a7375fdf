"""The `process` entry point as a SageMaker processing job runs it: a plain process, paths relocated."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from sagemaker_support import BIN, opt_ml_env, random_model, run_entry_point, write_video

pytestmark = pytest.mark.slow


def test_good_and_corrupt_videos(tmp_path: Path, model_dir: Path, tiny_dataset: Path) -> None:
    inputs = tmp_path / "processing" / "input"
    frames = sorted((tiny_dataset / "SYN1-01" / "img1").glob("*.jpg"))[:10]
    write_video(inputs / "video" / "cam1" / "street.mp4", frames)
    (inputs / "video" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (inputs / "model").mkdir(parents=True)
    with tarfile.open(inputs / "model" / "model.tar.gz", "w:gz") as tar:  # as a job's S3 input
        for name in ("model.pt", "model.json"):
            tar.add(model_dir / name, arcname=name)

    result = run_entry_point("process", opt_ml_env(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "processing" / "output"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [o["video"] for o in manifest["outputs"]] == ["cam1/street.mp4"]
    assert [f["video"] for f in manifest["failures"]] == ["broken.mp4"]
    assert "broken.mp4" in manifest["failures"][0]["error"]
    produced = out / "cam1" / "street"
    names = {"annotated.mp4", "tracks.txt", "tracks.json", "summary.json"}
    assert names <= {p.name for p in produced.iterdir()}
    summary = json.loads((produced / "summary.json").read_text())
    assert summary["frames"] == 10 and summary["tracks"] >= 3
    rows = [line.split(",") for line in (produced / "tracks.txt").read_text().splitlines()]
    assert rows and all(len(r) == 10 for r in rows)
    assert not (out / "broken").exists()  # nothing half-written for the bad video
    assert not (tmp_path / "output" / "message").exists()


def test_every_video_failing_fails_the_job(tmp_path: Path, model_dir: Path) -> None:
    inputs = tmp_path / "processing" / "input"
    (inputs / "video").mkdir(parents=True)
    (inputs / "video" / "a.avi").write_bytes(b"not a video")
    shutil.copytree(model_dir, inputs / "model")
    result = run_entry_point("process", opt_ml_env(tmp_path))
    assert result.returncode != 0
    message = (tmp_path / "output" / "message").read_text()
    assert "all 1 video(s) failed" in message and "a.avi" in message
    manifest = json.loads((tmp_path / "processing" / "output" / "manifest.json").read_text())
    assert manifest["outputs"] == [] and len(manifest["failures"]) == 1


def test_no_video_or_no_model_fails_with_a_message(tmp_path: Path) -> None:
    result = run_entry_point("process", opt_ml_env(tmp_path))
    assert result.returncode != 0
    assert "no video" in (tmp_path / "output" / "message").read_text()

    (tmp_path / "processing" / "input" / "video").mkdir(parents=True)
    (tmp_path / "processing" / "input" / "video" / "a.mp4").write_bytes(b"x")
    result = run_entry_point("process", opt_ml_env(tmp_path))
    assert result.returncode != 0
    assert "cannot load the model" in (tmp_path / "output" / "message").read_text()


def long_video(path: Path, frames: int) -> Path:
    """A moving-square mp4 long enough to be stopped in the middle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25, (320, 192))
    for index in range(frames):
        frame = np.full((192, 320, 3), 60, np.uint8)
        x = index % 280
        frame[60:150, x : x + 30] = (200, 180, 160)
        writer.write(frame)
    writer.release()
    return path


def test_sigterm_mid_video_keeps_earlier_results_and_says_why(tmp_path: Path) -> None:
    inputs = tmp_path / "processing" / "input"
    long_video(inputs / "video" / "long.mp4", 1500)
    random_model(inputs / "model")
    env = opt_ml_env(tmp_path)
    first = run_entry_point("process", env, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    out = tmp_path / "processing" / "output"
    earlier = {p.name: p.read_bytes() for p in (out / "long").iterdir()}
    assert "summary.json" in earlier
    stale = out / "long" / ".partial-killed"  # as a SIGKILLed run leaves it
    stale.mkdir()
    (stale / "tracks.txt").write_text("half")

    process = subprocess.Popen(
        [str(BIN / "process")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:  # the re-run has started on the video
        if line.startswith("[1/1]"):
            break
    time.sleep(1.5)
    assert process.poll() is None, "the video finished before it could be stopped"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr[-2000:]
    message = (tmp_path / "output" / "message").read_text()
    assert message.startswith("stopped by SIGTERM during long.mp4"), message
    assert {p.name: p.read_bytes() for p in (out / "long").iterdir()} == earlier
    assert not list(out.rglob(".partial*")), "staging: the stale one and the stopped run's"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stopped"] and not manifest["finished"]
    assert manifest["failures"] == [{"video": "long.mp4", "error": "stopped by SIGTERM"}]
