"""`fairmot client stream` against a running `serve`: the files of a tracked video."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import pytest
from sagemaker_support import BIN, free_port, opt_ml_env, write_video

pytestmark = pytest.mark.slow


def test_client_streams_a_video_and_writes_results(
    serve_url: str, tiny_dataset: Path, tmp_path: Path
) -> None:
    frames = sorted((tiny_dataset / "SYN1-01" / "img1").glob("*.jpg"))[:9]
    video = write_video(tmp_path / "clip.mp4", frames)

    out = tmp_path / "out"
    command = [
        str(BIN / "fairmot"),
        "client",
        "stream",
        str(video),
        "--url",
        serve_url,
        "--out",
        str(out),
        "--batch-size",
        "2",
    ]
    result = subprocess.run(
        command, env=opt_ml_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["frames"] == 9 and printed["client"]["requests"] == 5  # 4 pairs + 1
    assert printed["client"]["session"] is True  # serve answered NEW_SESSION with an id
    assert {p.name for p in out.iterdir()} == {
        "annotated.mp4",
        "tracks.txt",
        "tracks.json",
        "summary.json",
    }
    tracks = json.loads((out / "tracks.json").read_text())
    assert [f["frame"] for f in tracks["frames"]] == list(range(1, 10))
    assert printed["tracks"] >= 3
    capture = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 9


def test_client_reports_an_unreachable_endpoint(tmp_path: Path, tiny_dataset: Path) -> None:
    frames = sorted((tiny_dataset / "SYN1-01" / "img1").glob("*.jpg"))[:2]
    video = write_video(tmp_path / "clip.mp4", frames)
    command = [
        str(BIN / "fairmot"),
        "client",
        "stream",
        str(video),
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--out",
        str(tmp_path / "out"),
    ]
    result = subprocess.run(
        command, env=opt_ml_env(tmp_path), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "client:" in result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()
