"""The training loop on a tiny synthetic dataset: artifact, metric lines, stop and exact resume."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from fairmot.train.hparams import TrainConfig
from fairmot.train.loop import TrainingError, TrainingInterrupted, train
from fairmot.train.metrics import parse_metrics

TINY = {
    "arch": "lite",
    "input_w": "160",
    "input_h": "96",
    "batch_size": "4",
    "num_workers": "0",
    "augment": "0",
    "lr": "1e-3",
    "num_iters": "3",
    "seed": "5",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairmot.data import generate_dataset

    out = tmp_path_factory.mktemp("tiny") / "data"
    generate_dataset(out, sequences=2, frames=10, width=160, height=96, seed=11)
    return out


def _config(**changes: str) -> TrainConfig:
    return TrainConfig.from_strings({**TINY, **changes})


@pytest.mark.slow
def test_one_epoch_writes_artifact_and_metric_lines(dataset: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    result = train(
        _config(num_epochs="1"), dataset, tmp_path / "model", tmp_path / "ck", log=lines.append
    )
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert (tmp_path / "model" / "model.pt").is_file()
    assert (tmp_path / "model" / "loss_curve.png").stat().st_size > 1000
    assert card["arch"] == "lite" and card["nID"] == result.card.nID > 0
    assert card["hyperparameters"]["lr"] == "0.001"
    assert card["metrics"]["loss"] == pytest.approx(result.metrics["loss"])
    parsed = parse_metrics("\n".join(lines))
    assert parsed["epoch"] == [1.0]
    assert set(parsed) >= {"loss", "hm_loss", "wh_loss", "off_loss", "id_loss", "lr"}
    assert [p.name for p in (tmp_path / "ck").iterdir()] == ["checkpoint-e0001-s0000000.pt"]


def _stop_after(step: int, event: threading.Event, lines: list[str]):
    def log(line: str) -> None:
        lines.append(line)
        if f"step={step} " in line:
            event.set()

    return log


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [{}, {"augment": "1", "num_workers": "1"}],
    ids=["plain", "augmented-with-a-worker"],
)
def test_stop_mid_epoch_then_resume_equals_uninterrupted_run(
    dataset: Path, tmp_path: Path, changes: dict[str, str]
) -> None:
    config = _config(num_epochs="2", print_iter="1", **changes)
    straight = train(config, dataset, tmp_path / "a", tmp_path / "ck_a", log=lambda _: None)

    event = threading.Event()
    lines: list[str] = []
    with pytest.raises(TrainingInterrupted) as info:
        train(
            config,
            dataset,
            tmp_path / "b",
            tmp_path / "ck_b",
            log=_stop_after(2, event, lines),
            stop_event=event,
        )
    assert info.value.epoch == 1 and info.value.step == 2
    assert info.value.checkpoint is not None
    assert info.value.checkpoint.name == "checkpoint-e0000-s0000002.pt"
    assert not (tmp_path / "b" / "model.pt").exists()

    resumed_lines: list[str] = []
    resumed = train(config, dataset, tmp_path / "b", tmp_path / "ck_b", log=resumed_lines.append)
    text = "\n".join(resumed_lines)
    assert "resuming from checkpoint-e0000-s0000002.pt: epoch 1, step 2" in text
    # The epoch counter continues: epoch 1 finishes (step 3), then epoch 2 (steps 4-6).
    assert parse_metrics(text)["step"] == [3.0, 4.0, 5.0, 6.0]
    assert resumed.epochs_done == straight.epochs_done == 2
    # Epoch 1's metrics count the steps before the stop too: the history is the same.
    assert len(resumed.history) == len(straight.history) == 2
    for got, want in zip(resumed.history, straight.history, strict=True):
        assert got == pytest.approx(want, rel=1e-5)

    a = torch.load(tmp_path / "a" / "model.pt", map_location="cpu", weights_only=False)
    b = torch.load(tmp_path / "b" / "model.pt", map_location="cpu", weights_only=False)
    a = a.get("state_dict", a)
    b = b.get("state_dict", b)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    # The loss module (ID classifier, s_det, s_id) resumed too.
    ck_a = torch.load(sorted((tmp_path / "ck_a").iterdir())[-1], weights_only=False)
    ck_b = torch.load(sorted((tmp_path / "ck_b").iterdir())[-1], weights_only=False)
    for key in ck_a["loss"]:
        torch.testing.assert_close(ck_a["loss"][key], ck_b["loss"][key], rtol=1e-5, atol=1e-6)


def test_unknown_arch_is_a_one_line_error(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as info:
        train(_config(arch="resnet50"), dataset, tmp_path / "m", log=lambda _: None)
    assert "resnet50" in str(info.value) and "lite" in str(info.value)
    assert "\n" not in str(info.value)


def test_corrupt_dataset_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"name": "x", "sequences": ["missing"]}')
    with pytest.raises(TrainingError) as info:
        train(_config(), tmp_path, tmp_path / "m", log=lambda _: None)
    assert "missing" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
def test_max_minutes_stop_then_rerun_records_each_epoch_once(dataset: Path, tmp_path: Path) -> None:
    first = train(
        _config(num_epochs="2", max_minutes="0.00001"), dataset, tmp_path / "m", tmp_path / "ck"
    )
    assert first.stopped_early and first.epochs_done == 0
    assert [row["epoch"] for row in first.history] == [1.0]
    rerun = train(_config(num_epochs="2"), dataset, tmp_path / "m", tmp_path / "ck")
    assert rerun.epochs_done == 2
    assert [row["epoch"] for row in rerun.history] == [1.0, 2.0]


def test_dataset_without_identities_is_a_one_line_error(dataset: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "no_gt"
    shutil.copytree(dataset, copy)
    for gt in copy.glob("*/gt/gt.txt"):
        gt.unlink()
    with pytest.raises(TrainingError, match=r"no_gt: no identities in the training frames"):
        train(_config(), copy, tmp_path / "model", log=lambda _: None)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "1"])
def test_unreadable_image_mid_training_is_a_one_line_error(
    dataset: Path, tmp_path: Path, workers: str
) -> None:
    import shutil

    copy = tmp_path / "bad"
    shutil.copytree(dataset, copy)
    for image in copy.glob("*/img1/000004.jpg"):
        image.write_bytes(b"not a jpeg")
    config = _config(num_workers=workers, num_iters="0", batch_size="20")
    with pytest.raises(TrainingError, match=r"000004\.jpg: cannot read image") as info:
        train(config, copy, tmp_path / "model", log=lambda _: None)
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.slow
def test_half_val_tracks_the_second_halves(dataset: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    config = _config(num_epochs="2", num_iters="1", half_val="1", val_every="1")
    result = train(config, dataset, tmp_path / "model", log=lines.append)
    parsed = parse_metrics("\n".join(lines))
    assert len(parsed["val_mota"]) == 2 and len(parsed["val_idf1"]) == 2  # epoch 1 and the end
    assert len(parsed["val_loss"]) == 2 and parsed["val_loss"][-1] > 0
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert card["metrics"]["val_idf1"] == result.metrics["val_idf1"]
    assert {"val_precision", "val_recall", "val_hota"} <= set(card["metrics"])


@pytest.mark.slow
def test_unreadable_newest_checkpoint_falls_back_and_foreign_one_is_refused(
    dataset: Path, tmp_path: Path
) -> None:
    ck = tmp_path / "ck"
    train(_config(num_epochs="1", num_iters="1"), dataset, tmp_path / "m", ck, log=lambda _: None)
    (ck / "checkpoint-e0009-s0000000.pt").write_bytes(b"cut short by a spot interruption")
    lines: list[str] = []
    result = train(
        _config(num_epochs="2", num_iters="1"), dataset, tmp_path / "m", ck, log=lines.append
    )
    text = "\n".join(lines)
    assert "skipping unreadable checkpoint checkpoint-e0009-s0000000.pt" in text
    assert "resuming from checkpoint-e0001-s0000000.pt: epoch 2, step 0" in text
    assert result.epochs_done == 2 and parse_metrics(text)["epoch"] == [2.0]

    with pytest.raises(TrainingError, match="another model or dataset"):
        train(
            _config(num_epochs="3", num_iters="1", reid_dim="16"),
            dataset,
            tmp_path / "m",
            ck,
            log=lambda _: None,
        )


def test_validation_halves_keep_the_training_identity_numbers(dataset: Path) -> None:
    from fairmot.data import build_training_set, read_manifest, read_sequence
    from fairmot.train.val_loss import validation_set

    train_set = build_training_set(dataset, 160, 96, half_val=True, augment=False)
    val_set = validation_set(dataset, 160, 96)
    assert val_set.nID == train_set.nID and len(val_set) == len(train_set)
    seq = read_sequence(dataset / read_manifest(dataset).sequences[0])

    def class_of(sample_labels: np.ndarray, frame: int, track: int) -> int:
        row = seq.gt[(seq.gt[:, 0] == frame) & (seq.gt[:, 1] == track)][0]
        centre = ((row[2] + row[4] / 2) / seq.width, (row[3] + row[5] / 2) / seq.height)
        nearest = np.abs(sample_labels[:, 2:4] - centre).sum(axis=1).argmin()
        return int(sample_labels[nearest, 1])

    # Frame 5 is the last training frame of sequence 1, frame 6 the first validation frame.
    in_both = set(seq.gt[seq.gt[:, 0] == 5, 1]) & set(seq.gt[seq.gt[:, 0] == 6, 1])
    assert in_both
    for track in in_both:
        trained = class_of(train_set.samples[4].labels, 5, int(track))
        assert class_of(val_set.samples[0].labels, 6, int(track)) == trained >= 0


@pytest.mark.slow
def test_load_model_starts_from_our_artifact_and_rejects_a_missing_path(
    dataset: Path, tmp_path: Path
) -> None:
    train(_config(num_epochs="1", num_iters="1"), dataset, tmp_path / "first", log=lambda _: None)
    lines: list[str] = []
    config = _config(num_epochs="1", num_iters="1", load_model=str(tmp_path / "first"))
    train(config, dataset, tmp_path / "second", log=lines.append)
    loaded = next(line for line in lines if line.startswith("loaded "))
    assert "0 missing, 0 of another shape, 0 unexpected" in loaded
    with pytest.raises(TrainingError, match="does not exist"):
        train(_config(load_model=str(tmp_path / "nope.pth")), dataset, tmp_path / "x", log=print)


def test_lr_is_the_whole_batchs_unless_linear_scaling_is_asked_for() -> None:
    from fairmot.train.resume import effective_lr, scheduled_lr

    plain = _config(lr="1e-3", lr_step="2,4")
    assert effective_lr(plain, 4) == 1e-3
    assert effective_lr(plain.updated(lr_scaling="linear"), 4) == pytest.approx(4e-3)
    drops = [scheduled_lr(plain, 1, done) for done in range(6)]
    assert drops == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5])


@pytest.mark.slow
def test_resume_applies_a_new_schedule_and_refuses_a_new_batch(
    dataset: Path, tmp_path: Path
) -> None:
    ck = tmp_path / "ck"
    first = _config(num_epochs="1", num_iters="1", lr_step="5")
    train(first, dataset, tmp_path / "m", ck, log=lambda _: None)
    lines: list[str] = []
    again = _config(num_epochs="2", num_iters="1", lr_step="1")
    train(again, dataset, tmp_path / "m", ck, log=lines.append)
    text = "\n".join(lines)
    assert "resuming with a new schedule (lr_step 5 -> 1): lr 0.0001 from epoch 2" in text
    assert parse_metrics(text)["lr"] == pytest.approx([1e-4])
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["hyperparameters"]["lr_step"] == "1"

    with pytest.raises(TrainingError) as error:
        train(
            _config(num_epochs="3", num_iters="1", lr_step="1", batch_size="2"),
            dataset,
            tmp_path / "m",
            ck,
            log=lambda _: None,
        )
    message = str(error.value)
    assert "\n" not in message
    assert "was trained with batch_size=4 (now 2); these cannot change when resuming" in message
