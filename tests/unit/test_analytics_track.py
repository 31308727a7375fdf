"""`fairmot track --scene`: analytics beside the tracks, drawn on the video, totals in the
summary; the same numbers `fairmot analytics` recomputes from the written tracks.txt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_pipeline import FRAMES, H, W, loaded, write_clip  # noqa: F401  (loaded: a fixture)

from fairmot.analytics import ANALYTICS_FILES, analyse_rows, load_scene, totals
from fairmot.cli import main
from fairmot.evaluation import read_mot_results
from fairmot.model import LoadedModel, save_artifact
from fairmot.video import open_video

LINE_X = 60


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(
        f"lines:\n  gate: [[{LINE_X}, {H - 1}], [{LINE_X}, 1]]\n"
        f"zones:\n  left: [[1, 1], [40, 1], [40, {H - 1}], [1, {H - 1}]]\n"
        "calibration:\n"
        + "".join(
            f"  - {{image: [{x}, {y}], ground: [{x / 20}, {y / 20}]}}\n"
            for x, y in [(0, 0), (W, 0), (W, H), (0, H)]
        )
    )
    return path


def test_track_with_a_scene_writes_analytics_draws_them_and_sums_them_up(
    loaded: LoadedModel,  # noqa: F811
    tmp_path: Path,
    scene_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = write_clip(tmp_path / "walk.mp4")
    model = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    out, plain = tmp_path / "out", tmp_path / "plain"
    # The reference tracker: fewer of the random model's boxes become tracks than with fairbyte's
    # low band, so the drawn line stays visible between them.
    args = ["track", str(clip), "--model", str(model), "--quiet", "--tracker", "fairmot"]
    assert main([*args, "--out", str(out), "--scene", str(scene_file)]) == 0
    assert main([*args, "--out", str(plain)]) == 0
    capsys.readouterr()
    names = {p.name for p in out.iterdir()}
    assert set(ANALYTICS_FILES) <= names
    assert not set(ANALYTICS_FILES) & {p.name for p in plain.iterdir()}
    report = json.loads((out / "analytics.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["analytics"] == totals(report)
    assert set(report["tracks"]) == {
        str(int(i)) for i in read_mot_results(out / "tracks.txt")[:, 1]
    }
    # Recomputed from the written tracks.txt (boxes rounded to 0.01 px): the same counts.
    again = analyse_rows(read_mot_results(out / "tracks.txt"), load_scene(scene_file), 25)
    assert totals(again.report())["lines"] == summary["analytics"]["lines"]
    assert totals(again.report())["zones"] == summary["analytics"]["zones"]
    # The line is drawn: a white column at LINE_X on every frame of the annotated video only.
    with_scene, without = (
        list(open_video(out / "annotated.mp4")),
        list(open_video(plain / "annotated.mp4")),
    )
    assert len(with_scene) == len(without) == FRAMES

    def white(frames: list[np.ndarray]) -> np.ndarray:
        """Per frame, the share of the line's column that is near white."""
        return np.array([(f[1 : H - 1, LINE_X].min(axis=-1) > 200).mean() for f in frames])

    # The random model's many boxes cover much of it in some frames, not on average.
    assert white(with_scene).mean() > 0.4
    assert white(without).max() < 0.1
    # Tracking again into the same folder without the scene leaves no analytics of the first
    # run behind.
    assert main([*args, "--out", str(out), "--no-video", "--exist-ok"]) == 0
    assert not set(ANALYTICS_FILES) & {p.name for p in out.iterdir()}
    assert "analytics" not in json.loads((out / "summary.json").read_text())


def test_track_with_a_bad_scene_fails_in_one_line_before_tracking(
    loaded: LoadedModel,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "scene.yaml"
    bad.write_text("calibration:\n  - {image: [0, 0], ground: [0, 0]}\n")
    clip = write_clip(tmp_path / "walk.mp4", frames=4)
    model = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    out = tmp_path / "out"
    code = main(["track", str(clip), "--model", str(model), "--out", str(out), "--scene", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"fairmot track: {bad}: calibration: needs at least 4 points")
    assert not out.exists()
