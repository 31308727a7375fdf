"""`fairmot prepare --format jde|crowdhuman` on tiny fixtures written in exactly those layouts,
and a manifest combining them with MOT sequences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fairmot.cli import main
from fairmot.data import collect_labels, read_manifest, read_sequence
from fairmot.data.dataset import TrainingSet
from fairmot.data.mot import pedestrian_rows

FIXTURES = Path(__file__).parents[1] / "fixtures"
JDE = FIXTURES / "JDE"
CROWDHUMAN = FIXTURES / "CrowdHuman"


def prepare(*args: str) -> int:
    return main(["prepare", *args, "--link", "copy"])


@pytest.fixture
def combined(tmp_path: Path) -> Path:
    out = tmp_path / "mix"
    assert prepare(str(FIXTURES / "MOT17"), str(out), "--name", "mix") == 0
    lists = ["--list", str(JDE / "caltech.train"), "--list", str(JDE / "cuhksysu.train")]
    assert prepare(str(JDE), str(out), "--format", "jde", *lists) == 0
    assert prepare(str(CROWDHUMAN), str(out), "--format", "crowdhuman") == 0
    return out


def gt_rows(seq_dir: Path) -> list[list[float]]:
    return read_sequence(seq_dir).gt[:, :6].tolist()


def test_jde_labels_become_pixel_ground_truth_with_per_frame_sizes(combined: Path) -> None:
    caltech = read_sequence(combined / "caltech")
    assert caltech.length == 3 and caltech.im_ext == ".png"
    assert [caltech.size(f) for f in (1, 2, 3)] == [(64, 48), (80, 40), (64, 48)]
    # 0.5,0.5,0.25,0.5 of 64x48 -> x 24, y 12, 16x24; 0.0625 centre: amodal x -4 (past the edge)
    # 0.75,0.5,0.2,0.8 of 80x40 -> x 52, y 4, 16x32; frame 3 has no label file: no boxes.
    assert gt_rows(combined / "caltech") == [
        [1, -1, 24, 12, 16, 24],
        [1, -1, -4, 6, 16, 36],
        [2, -1, 52, 4, 16, 32],
    ]
    assert gt_rows(combined / "cuhksysu") == [
        [1, 0, 8, 12, 16, 24],
        [1, 1, 40, 12, 16, 24],
        [2, 0, 12, 16, 24, 32],
    ]


def test_crowdhuman_keeps_full_amodal_person_boxes_and_skips_masks_and_ignored(
    combined: Path, tmp_path: Path
) -> None:
    seq = combined / "CrowdHuman-train"
    assert gt_rows(seq) == [[1, -1, -6, 4, 20, 40], [1, -1, 30, 10, 16, 30], [2, -1, 10, 6, 12, 30]]
    assert read_sequence(seq).size(2) == (48, 32)
    out = tmp_path / "ids"
    assert prepare(str(CROWDHUMAN), str(out), "--format", "crowdhuman", "--ids", "per-box") == 0
    assert [row[1] for row in gt_rows(out / "CrowdHuman-train")] == [0, 1, 2]


def test_one_manifest_combines_the_sources_with_offsets_per_dataset(combined: Path) -> None:
    manifest = read_manifest(combined)
    assert manifest.name == "mix"
    assert manifest.sequences == ["MOT17-02-FRCNN", "caltech", "cuhksysu", "CrowdHuman-train"]
    labels = collect_labels(combined, half_val=False)
    mot_gt = read_sequence(combined / "MOT17-02-FRCNN").gt
    mot_ids = len(np.unique(pedestrian_rows(mot_gt)[:, 1]))
    assert labels.nID == mot_ids + 2  # Caltech and CrowdHuman: detection only
    by_seq = {
        name: [s for s in labels.samples if s.image_path.parent.parent.name == name]
        for name in manifest.sequences
    }
    assert all((s.labels[:, 1] == -1).all() for s in by_seq["caltech"] + by_seq["CrowdHuman-train"])
    s1, s2 = by_seq["cuhksysu"]
    # The same person keeps one class across images of different sizes.
    assert s1.labels[:, 1].tolist() == [mot_ids, mot_ids + 1]
    assert s2.labels[:, 1].tolist() == [mot_ids]
    assert (s2.width, s2.height) == (48, 64)
    # Normalised labels round-trip to the label file's own values.
    np.testing.assert_allclose(s2.labels[0, 2:], [0.5, 0.5, 0.5, 0.5], atol=1e-6)


def test_detection_only_boxes_train_detection_but_not_identity(combined: Path) -> None:
    labels = collect_labels(combined, half_val=False)
    caltech = [s for s in labels.samples if s.image_path.parent.parent.name == "caltech"]
    item = TrainingSet(caltech, labels.nID, 64, 32, augment=False)[0]
    assert item["reg_mask"][:2].tolist() == [1, 1] and item["ids"][:2].tolist() == [-1, -1]
    assert item["hm"].max() == 1.0


def test_rerunning_a_conversion_lists_its_sequences_once(combined: Path) -> None:
    assert prepare(str(CROWDHUMAN), str(combined), "--format", "crowdhuman") == 0
    assert read_manifest(combined).sequences.count("CrowdHuman-train") == 1


def test_bad_sources_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert prepare(str(JDE), str(tmp_path / "a"), "--format", "jde") == 2
    assert "needs at least one --list FILE" in capsys.readouterr().err
    root = tmp_path / "jde"
    shutil.copytree(JDE, root)
    (root / "CUHKSYSU/labels_with_ids/s2.txt").write_text("0 0 0.5 0.5\n")
    assert (
        prepare(
            str(root),
            str(tmp_path / "b"),
            "--format",
            "jde",
            "--list",
            str(root / "cuhksysu.train"),
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.endswith("s2.txt:1: expected `class id cx cy w h`, got 4 values")
    assert "\n" not in err and not (tmp_path / "b").exists()
    odgt = tmp_path / "bad.odgt"
    odgt.write_text(json.dumps({"ID": "x", "gtboxes": []})[:-3] + "\n")
    assert (
        prepare(
            str(CROWDHUMAN),
            str(tmp_path / "c"),
            "--format",
            "crowdhuman",
            "--annotations",
            str(odgt),
        )
        == 2
    )
    assert "bad.odgt:1: not JSON" in capsys.readouterr().err


def test_half_val_halves_videos_only(combined: Path) -> None:
    from fairmot.data import validation_sequences

    full = collect_labels(combined, half_val=False)
    half = collect_labels(combined, half_val=True)
    mot = read_sequence(combined / "MOT17-02-FRCNN")

    def count(labels, name):
        return sum(s.image_path.parent.parent.name == name for s in labels.samples)

    assert count(half, "MOT17-02-FRCNN") == mot.length // 2
    for name in ("caltech", "cuhksysu", "CrowdHuman-train"):
        assert count(half, name) == count(full, name) > 0
    assert [v.name for v in validation_sequences(combined)] == ["MOT17-02-FRCNN"]
