"""The `process` entry point with scenes: a video's own `<stem>.scene.yaml` beside it, else the
job's default scene input; a bad scene fails its video alone, in one line naming the entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sagemaker_support import opt_ml_env, run_entry_point, write_video

pytestmark = pytest.mark.slow

LINE = "[[160, 191], [160, 60]]"


def test_per_video_scene_else_the_default_scene(
    tmp_path: Path, model_dir: Path, tiny_dataset: Path
) -> None:
    inputs = tmp_path / "processing" / "input"
    frames = sorted((tiny_dataset / "SYN1-01" / "img1").glob("*.jpg"))[:12]
    for name in ("own", "default", "bad"):
        write_video(inputs / "video" / f"{name}.mp4", frames)
    (inputs / "video" / "own.scene.yaml").write_text(f"lines:\n  own_line: {LINE}\n")
    (inputs / "video" / "bad.scene.yaml").write_text("lines:\n  door: [[5, 5], [5, 5]]\n")
    (inputs / "scene").mkdir()
    (inputs / "scene" / "default.yaml").write_text(
        f"lines:\n  default_line: {LINE}\nzones:\n  all: [[-999, -999], [999, -999], [999, 999], [-999, 999]]\n"
    )
    shutil.copytree(model_dir, inputs / "model")

    result = run_entry_point("process", opt_ml_env(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "processing" / "output"
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(o["video"] for o in manifest["outputs"]) == ["default.mp4", "own.mp4"]
    [failure] = manifest["failures"]
    assert failure["video"] == "bad.mp4"
    assert "bad.scene.yaml: line 'door': degenerate line" in failure["error"]
    assert "\n" not in failure["error"]
    own = json.loads((out / "own" / "analytics.json").read_text())
    default = json.loads((out / "default" / "analytics.json").read_text())
    assert set(own["lines"]) == {"own_line"} and own["zones"] == {}
    assert set(default["lines"]) == {"default_line"} and set(default["zones"]) == {"all"}
    summary = json.loads((out / "default" / "summary.json").read_text())
    # Every track stands in the whole-frame zone: each is one entry.
    assert summary["analytics"]["zones"]["all"]["entries"] == len(default["tracks"]) > 0
    for name in ("trajectories.png", "occupancy_heatmap.png", "analytics_tracks.csv"):
        assert (out / "own" / name).is_file()
