"""`fairmot train` on the command line: flags, manifest options and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.cli import main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairmot.data import generate_dataset

    out = tmp_path_factory.mktemp("cmd") / "data"
    generate_dataset(out, sequences=1, frames=6, width=160, height=96, seed=3)
    return out


def test_bad_manifest_hyperparameter_fails_with_one_line(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((dataset / "manifest.json").read_text())
    bad = tmp_path / "data"
    bad.mkdir()
    for seq in manifest["sequences"]:
        (bad / seq).symlink_to(dataset / seq)
    (bad / "manifest.json").write_text(
        json.dumps({**manifest, "hyperparameters": {"batchsize": "4"}})
    )
    assert main(["train", str(bad), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "fairmot train: error: unknown hyperparameter(s) batchsize (did you mean batch_size?); "
        "valid:"
    )
    assert "\n" not in err


def test_malformed_flag_value_fails_with_one_line(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", str(dataset), "--out", str(tmp_path / "m"), "--lr", "fast"]) == 2
    err = capsys.readouterr().err.strip()
    assert "hyperparameter lr='fast'" in err and "\n" not in err


@pytest.mark.slow
def test_cli_trains_with_recipe_and_flags(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    args = ["train", str(dataset), "--out", str(out), "--recipe", "quick"]
    args += ["--input_w", "160", "--input_h", "96", "--num_epochs", "1", "--num_iters", "1"]
    assert main(args) == 0
    card = json.loads((out / "model.json").read_text())
    assert card["input_w"] == 160 and card["arch"] == "lite"
    assert "epoch=1 " in capsys.readouterr().out
    assert (out / "checkpoints").is_dir()


@pytest.mark.slow
def test_sigterm_checkpoints_and_exits_130(dataset: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    out = tmp_path / "model"
    args = [sys.executable, "-m", "fairmot", "train", str(dataset), "--out", str(out)]
    args += ["--recipe", "quick", "--input_w", "160", "--input_h", "96", "--batch_size", "1"]
    args += ["--num_epochs", "50", "--num_iters", "0", "--max_minutes", "0", "--print_iter", "1"]
    args += ["--num_workers", "0"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("epoch=1 step=1 "):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err
    assert list((out / "checkpoints").glob("checkpoint-e0000-s*.pt"))
    assert not (out / "model.pt").exists()


def test_dla34_without_pretrained_weights_fails_in_one_line_naming_the_fix(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", str(dataset), "--out", str(tmp_path / "m"), "--arch", "dla34"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fairmot train: error: arch dla34 trains from pretrained weights")
    assert "load_model" in err and "fairmot weights download" in err
    assert "allow_random_init=1" in err and "\n" not in err
    assert not (tmp_path / "m").exists()


def test_allow_random_init_lets_dla34_start_from_random_weights() -> None:
    from fairmot.train.hparams import TrainConfig
    from fairmot.train.loop import TrainingError, check_pretrained

    with pytest.raises(TrainingError, match="arch dla34 trains from pretrained weights"):
        check_pretrained(TrainConfig())
    check_pretrained(TrainConfig.from_strings({"allow_random_init": "1"}))
    check_pretrained(TrainConfig.from_strings({"load_model": "ctdet_coco_dla_2x.pth"}))
    check_pretrained(TrainConfig.from_strings({"arch": "lite"}))
