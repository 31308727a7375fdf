"""How the `fairmot` command behaves at its edges: flag spelling, typos, output folders, parts
and truncated videos, refusals and quiet pipes. A small random-init lite model stands in for a
trained one where only the plumbing matters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_pipeline import loaded  # noqa: F401  # the calibrated random-init lite fixture

from fairmot.cli import build_parser, hyphenate, main
from fairmot.model import LoadedModel, save_artifact

W, H, FPS, FRAMES = 128, 64, 25, 30


@pytest.fixture(scope="module")
def model_dir(loaded: LoadedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    return save_artifact(loaded.model, loaded.card, tmp_path_factory.mktemp("cli") / "m")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Motion-JPEG avi: every frame stands alone, so a cut file decodes up to the cut."""
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (W, H))
    rng = np.random.default_rng(0)
    for _ in range(FRAMES):
        writer.write(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    writer.release()
    return path


def track(clip: Path, model_dir: Path, out: Path, *extra: str) -> int:
    args = ["track", str(clip), "--model", str(model_dir), "--out", str(out), "--quiet"]
    return main([*args, "--no-video", "--backend", "torch", *extra])


def test_flags_take_hyphens_and_the_hyperparameters_underscore_names() -> None:
    parser = build_parser()
    for spelling in (
        ["--input-w", "160", "--batch-size=2"],
        ["--input_w", "160", "--batch_size=2"],
    ):
        args = parser.parse_args(hyphenate(["train", "data", "--out", "m", *spelling]))
        assert (args.hp_input_w, args.hp_batch_size) == ("160", "2")
    # Values and everything after a bare -- keep their underscores.
    assert hyphenate(["--name", "my_set", "--", "--keep_me"]) == [
        "--name",
        "my_set",
        "--",
        "--keep_me",
    ]


@pytest.mark.parametrize(
    "argv, suggestion",
    [
        (["track", "v.mp4", "--model", "m", "--outt", "o"], "--outt (did you mean --out?)"),
        (["train", "data", "--out", "m", "--input-ww", "9"], "did you mean --input-w"),
        (["train", "data", "--out", "m", "--lr_stepp", "9"], "did you mean --lr-step"),
    ],
)
def test_a_misspelt_flag_gets_did_you_mean(argv: list[str], suggestion: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert suggestion in capsys.readouterr().err


def test_a_misspelt_hyperparameter_in_a_manifest_gets_did_you_mean() -> None:
    from fairmot.train.hparams import HyperparameterError, TrainConfig

    with pytest.raises(HyperparameterError, match=r"lr_stp \(did you mean lr_step\?\)"):
        TrainConfig.from_strings({"lr_stp": "5"})


def test_out_naming_a_file_is_a_one_line_error(
    clip: Path, model_dir: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "taken.txt").write_text("mine")
    assert track(clip, model_dir, tmp_path / "taken.txt") == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"fairmot track: --out {tmp_path / 'taken.txt'} is a file, not a folder: choose another path\n"
    )
    assert (tmp_path / "taken.txt").read_text() == "mine"


def test_a_second_run_never_overwrites_the_first(
    clip: Path, model_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    assert track(clip, model_dir, out, "--frames", "3") == 0
    first = (out / "tracks.json").read_text()
    assert track(clip, model_dir, out, "--frames", "4") == 0
    assert f"outputs in {tmp_path / 'run2'}" in capsys.readouterr().out
    assert (out / "tracks.json").read_text() == first
    assert json.loads((tmp_path / "run2" / "summary.json").read_text())["frames"] == 4
    assert track(clip, model_dir, out, "--frames", "5", "--exist-ok") == 0
    assert json.loads((out / "summary.json").read_text())["frames"] == 5
    assert not (tmp_path / "run3").exists()


def test_start_and_frames_track_a_part_with_the_videos_frame_numbers(
    clip: Path, model_dir: Path, tmp_path: Path
) -> None:
    assert (
        track(
            clip,
            model_dir,
            tmp_path / "o",
            "--start",
            "10",
            "--frames",
            "5",
            "--conf-thres",
            "0.01",
        )
        == 0
    )
    frames = [
        f["frame"] for f in json.loads((tmp_path / "o" / "tracks.json").read_text())["frames"]
    ]
    assert frames == [11, 12, 13, 14, 15]
    rows = np.loadtxt(tmp_path / "o" / "tracks.txt", delimiter=",", ndmin=2)
    assert set(rows[:, 0].astype(int)) <= set(frames) and len(rows) > 0


def test_start_past_the_end_is_a_one_line_error(
    clip: Path, model_dir: Path, tmp_path: Path, capsys
) -> None:
    assert track(clip, model_dir, tmp_path / "o", "--start", "500") == 2
    err = capsys.readouterr().err
    assert (
        "start frame 500 is past the end of the video (30 frames)" in err and err.count("\n") == 1
    )


def test_a_truncated_video_keeps_every_decoded_frame_and_exits_non_zero(
    clip: Path, model_dir: Path, tmp_path: Path, capsys
) -> None:
    cut = tmp_path / "cut.avi"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    decoded = sum(1 for _ in _frames_until_error(cut))
    assert 0 < decoded < FRAMES
    assert track(cut, model_dir, tmp_path / "o") == 1
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["truncated"] is True and summary["frames"] == decoded
    assert f"decoding stopped after {decoded} frames" in capsys.readouterr().err


def _frames_until_error(path: Path):
    capture = cv2.VideoCapture(str(path))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield frame
    capture.release()


def test_a_model_that_finds_nothing_says_so_and_why(
    clip: Path, model_dir: Path, tmp_path: Path, capsys
) -> None:
    assert track(clip, model_dir, tmp_path / "o", "--conf-thres", "1") == 0
    captured = capsys.readouterr()
    assert "0 tracks" in captured.out
    assert "no tracks in 30 frames" in captured.err and "untrained" in captured.err
    assert "--conf-thres" in captured.err


def test_synth_into_an_existing_dataset_refuses_unless_told(tmp_path: Path, capsys) -> None:
    out = tmp_path / "data"
    args = [
        "synth",
        str(out),
        "--sequences",
        "1",
        "--frames",
        "2",
        "--width",
        "64",
        "--height",
        "64",
    ]
    assert main(args) == 0
    manifest = (out / "manifest.json").read_text()
    assert main([*args, "--seed", "7"]) == 2
    assert "already holds a dataset (manifest.json)" in capsys.readouterr().err
    assert (out / "manifest.json").read_text() == manifest
    assert main([*args, "--seed", "7", "--exist-ok"]) == 0


@pytest.mark.parametrize(
    "name, message",
    [
        ("fake.mp4", "is not a model: give a model folder"),
        ("missing.tar.gz", "does not exist"),
    ],
)
def test_export_errors_are_one_line_in_the_house_style(
    tmp_path: Path, capsys, name: str, message: str
) -> None:
    if name == "fake.mp4":
        (tmp_path / name).write_bytes(b"\x00" * 64)
    assert main(["export", str(tmp_path / name), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fairmot export: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m.onnx").exists()


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # stdout is a pipe whose reader is gone (`| head` after it exited): writes fail with EPIPE.
    argv = ["synth", str(tmp_path / "d"), "--sequences", "1", "--frames", "2", "--width", "64"]
    code = (
        "import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1); "
        f"from fairmot.cli import main; sys.exit(main({argv!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "BrokenPipeError" not in result.stderr and "Traceback" not in result.stderr
    assert result.returncode == 141
