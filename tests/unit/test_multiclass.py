"""Multi-class parts, each on its own: the synthetic carts, the class map from gt and JDE labels
to training classes, per-class identities and ID classifiers, the tracks.txt class column and
per-class evaluation. The end-to-end run is tests/unit/test_multiclass_end_to_end.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from fairmot.commands.eval import evaluate_paths, parse_classes
from fairmot.data.jde import read_label_file
from fairmot.data.labels import collect_labels
from fairmot.data.manifest import DatasetManifest, read_manifest, write_manifest
from fairmot.data.mot import pedestrian_rows, read_sequence
from fairmot.data.synth import generate_dataset
from fairmot.data.targets import build_targets
from fairmot.evaluation import evaluate_classes, read_mot_results, write_mot_results
from fairmot.losses import FairMOTLoss
from fairmot.model import ModelCard

# sha256 of gt.txt, seqinfo.ini and manifest.json of generate_dataset(sequences=1, frames=12,
# width=160, height=96, seed=7), recorded before carts existed: one-class output is unchanged.
ONE_CLASS_DIGEST = "2bf9d2438a8f549a20ad0bf67d899550121cff3bcade1d9f016e66171257bc1d"


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".jpg":
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def two_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("two-class")
    return generate_dataset(out, sequences=1, frames=16, width=320, height=192, seed=3, classes=2)


def test_one_class_synth_output_is_what_it_was(tmp_path: Path) -> None:
    out = generate_dataset(tmp_path, sequences=1, frames=12, width=160, height=96, seed=7)
    assert _digest(out) == ONE_CLASS_DIGEST
    assert "classes" not in json.loads((out / "manifest.json").read_text())


def test_two_class_synth_adds_wide_low_carts_of_class_6(two_class: Path) -> None:
    manifest = read_manifest(two_class)
    assert manifest.classes == {1: 0, 6: 1}
    gt = read_sequence(two_class / manifest.sequences[0]).gt
    assert set(np.unique(gt[:, 7]).tolist()) == {1.0, 6.0}
    people, carts = gt[gt[:, 7] == 1], gt[gt[:, 7] == 6]
    assert np.median(carts[:, 4] / carts[:, 5]) > 1.3  # wider than tall
    assert np.median(people[:, 4] / people[:, 5]) < 0.6
    assert not set(carts[:, 1]) & set(people[:, 1])  # ids unique across classes


def test_the_default_class_map_trains_mot17_pedestrians_only(two_class: Path) -> None:
    manifest = read_manifest(two_class)
    write_manifest(two_class, manifest.model_copy(update={"classes": None}))
    try:
        labels = collect_labels(two_class, half_val=False)
    finally:
        write_manifest(two_class, manifest)
    seq = read_sequence(two_class / manifest.sequences[0])
    people = pedestrian_rows(seq.gt)
    assert labels.class_nID == [len(np.unique(people[:, 1]))]
    rows = np.concatenate([s.labels for s in labels.samples])
    assert len(rows) == len(people) and set(rows[:, 0].tolist()) == {0.0}


def test_the_manifest_class_map_numbers_identities_per_class(two_class: Path) -> None:
    labels = collect_labels(two_class, half_val=False)
    seq = read_sequence(two_class / read_manifest(two_class).sequences[0])
    marked = seq.gt[seq.gt[:, 6] != 0]
    people = len(np.unique(marked[marked[:, 7] == 1, 1]))
    carts = len(np.unique(marked[marked[:, 7] == 6, 1]))
    assert labels.class_nID == [people, carts] and labels.nID == people + carts
    rows = np.concatenate([s.labels for s in labels.samples])
    for k, count in enumerate(labels.class_nID):
        mine = rows[rows[:, 0] == k]
        assert sorted(set(mine[:, 1].astype(int).tolist())) == list(range(count))
    # Carts are the wide boxes: class 1 has the larger width/height (w/W over h/H, same image).
    assert np.median(rows[rows[:, 0] == 1, 4] / rows[rows[:, 0] == 1, 5]) > np.median(
        rows[rows[:, 0] == 0, 4] / rows[rows[:, 0] == 0, 5]
    )


@pytest.mark.parametrize("classes", [{}, {1: 0, 6: 2}, {1: 1}])
def test_a_class_map_must_number_classes_from_0_without_gaps(classes: dict[int, int]) -> None:
    with pytest.raises(ValidationError, match="classes"):
        DatasetManifest(name="d", sequences=["a"], classes=classes)


def test_a_manifest_class_map_reads_from_json_keys() -> None:
    text = '{"name": "d", "sequences": ["a"], "classes": {"1": 0, "6": 1}}'
    assert DatasetManifest.model_validate_json(text).classes == {1: 0, 6: 1}


def test_jde_label_classes_become_mot_gt_classes(tmp_path: Path) -> None:
    path = tmp_path / "000001.txt"
    path.write_text("0 3 0.5 0.5 0.1 0.2\n1 -1 0.25 0.5 0.2 0.1\n")
    boxes, classes = read_label_file(path, 100, 50)
    assert classes.tolist() == [1, 2]  # pedestrian 0 -> MOT17 class 1
    assert boxes[:, 0].tolist() == [3, -1]
    path.write_text("0.5 3 0.5 0.5 0.1 0.2\n")
    with pytest.raises(ValueError, match=r"class 0\.5 must be an integer"):
        read_label_file(path, 100, 50)


def _card(class_nID: list[int]) -> ModelCard:
    return ModelCard(
        arch="lite", reid_dim=8, nID=sum(class_nID), num_classes=len(class_nID), class_nID=class_nID
    )


def _batch(classes: list[int], ids: list[int]) -> tuple[dict, dict]:
    k = len(classes)
    targets = build_targets(
        np.array([[4.0 + 8 * i, 4.0, 10.0 + 8 * i, 12.0] for i in range(k)]),
        np.array(ids),
        np.array(classes),
        64,
        32,
        num_classes=2,
        max_objects=8,
    )
    batch = {key: torch.from_numpy(v)[None] for key, v in targets.items()}
    torch.manual_seed(0)
    outputs = {
        "hm": torch.randn(1, 2, 8, 16),
        "wh": torch.randn(1, 4, 8, 16),
        "reg": torch.randn(1, 2, 8, 16),
        "id": torch.randn(1, 8, 8, 16, requires_grad=True),
    }
    return outputs, batch


def test_each_class_trains_its_own_id_classifier() -> None:
    loss = FairMOTLoss(_card([3, 2]))
    assert [c.out_features for c in loss.classifiers] == [3, 2]
    outputs, batch = _batch([1, 1], [0, 1])  # two carts, no people
    total, stats = loss(outputs, batch)
    total.backward()
    assert stats["id_loss"] > 0
    assert not loss.classifier.weight.grad.abs().sum()  # people's classifier untouched
    assert loss.class_classifiers[0].weight.grad.abs().sum() > 0
    # The carts' loss is the carts' classifier's cross-entropy on their scaled embeddings.
    flat = outputs["id"][0].detach().reshape(8, -1)
    emb = torch.nn.functional.normalize(flat[:, batch["ind"][0, :2]].T, dim=1)
    with torch.no_grad():
        logits = loss.class_classifiers[0](loss.class_scales[1] * emb)
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1]))
    assert stats["id_loss"] == pytest.approx(float(expected), rel=1e-5)


def test_a_single_class_card_keeps_its_loss_state_dict_keys() -> None:
    loss = FairMOTLoss(ModelCard(arch="lite", reid_dim=8, nID=4))
    assert sorted(loss.state_dict()) == ["classifier.bias", "classifier.weight", "s_det", "s_id"]


def test_a_card_whose_class_identities_do_not_add_up_is_refused() -> None:
    card = ModelCard(arch="lite", reid_dim=8, nID=5, num_classes=2, class_nID=[3, 3])
    with pytest.raises(ValueError, match="class_nID"):
        FairMOTLoss(card)


def test_tracks_txt_has_a_class_column_only_when_there_are_classes(tmp_path: Path) -> None:
    rows = np.array([[1, 1, 0, 0, 5, 5, 0.9, 0], [1, 2, 9, 9, 5, 5, 0.8, 1]])
    write_mot_results(tmp_path / "two.txt", rows)
    assert [line.split(",")[7] for line in (tmp_path / "two.txt").read_text().splitlines()] == [
        "0",
        "1",
    ]
    assert read_mot_results(tmp_path / "two.txt", classes=True)[:, 7].tolist() == [0, 1]
    assert read_mot_results(tmp_path / "two.txt").shape == (2, 7)
    rows[:, 7] = 0
    write_mot_results(tmp_path / "one.txt", rows)
    text = (tmp_path / "one.txt").read_text()
    assert text.splitlines()[0] == "1,1,0.00,0.00,5.00,5.00,0.9,-1,-1,-1"
    assert read_mot_results(tmp_path / "one.txt", classes=True)[:, 7].tolist() == [0, 0]


def _gt_rows() -> np.ndarray:
    """Two frames: a person (gt class 1) and a cart (gt class 6)."""
    return np.array(
        [
            [f, tid, 10 + 40 * (tid - 1), 10, w, h, 1, cls, 1]
            for f in (1, 2)
            for tid, w, h, cls in ((1, 10, 30, 1), (2, 30, 15, 6))
        ],
        dtype=float,
    )


def test_each_class_is_scored_against_its_own_ground_truth() -> None:
    gt = _gt_rows()
    right = np.c_[gt[:, :6], np.ones(len(gt)), (gt[:, 7] == 6).astype(float)]
    report = evaluate_classes({"s": right}, {"s": gt}, {1: 0, 6: 1})
    assert report.classes["class 0"]["mota"] == 1.0 and report.classes["class 1"]["mota"] == 1.0
    assert report.overall["mota"] == 1.0 and report.overall["gt_ids"] == 2
    swapped = right.copy()
    swapped[:, 7] = 1 - swapped[:, 7]  # the boxes right, the classes wrong
    report = evaluate_classes({"s": swapped}, {"s": gt}, {1: 0, 6: 1})
    assert report.classes["class 0"]["mota"] == -1.0 and report.overall["mota"] == -1.0
    assert "classes" in report.to_dict() and "class 1" in report.table()


def test_eval_reads_the_class_map_from_the_gt_datasets_manifest(two_class: Path) -> None:
    seq = read_manifest(two_class).sequences[0]
    gt = read_sequence(two_class / seq).gt
    results = two_class.parent / "results"
    rows = np.c_[gt[:, :6], np.ones(len(gt)), (gt[:, 7] == 6).astype(float)]
    write_mot_results(results / f"{seq}.txt", rows[gt[:, 6] != 0])
    report, missing = evaluate_paths(results, two_class)
    assert not missing and set(report.classes) == {"class 0", "class 1"}
    assert min(m["mota"] for m in report.classes.values()) == 1.0
    people_only, _ = evaluate_paths(results, two_class, {1: 0})
    assert not people_only.classes and people_only.overall["mota"] < 1.0  # carts count as FP


def test_a_bad_classes_option_is_one_line() -> None:
    assert parse_classes("1:0,6:1") == {1: 0, 6: 1}
    for text in ("1-0", "1:1", "a:b"):
        with pytest.raises(ValueError, match="--classes"):
            parse_classes(text)


def test_validation_halves_keep_the_training_halves_numbers_per_class(two_class: Path) -> None:
    from fairmot.train.val_loss import validation_set

    trained = collect_labels(two_class, half_val=True)
    validation = validation_set(two_class, 64, 32)
    assert validation.class_nID == trained.class_nID and validation.num_classes == 2
    assert validation[0]["hm"].shape[0] == 2


def test_a_bad_class_map_in_the_gt_manifest_is_one_line(tmp_path: Path, capsys) -> None:
    from fairmot.cli import main

    (tmp_path / "gt.txt").write_text("1,1,0,0,5,5,1,1,1\n")
    (tmp_path / "manifest.json").write_text(
        '{"name": "d", "sequences": ["a"], "classes": {"1": 3}}'
    )
    assert main(["eval", str(tmp_path / "gt.txt"), str(tmp_path / "gt.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "classes" in err and "0..K-1" in err
