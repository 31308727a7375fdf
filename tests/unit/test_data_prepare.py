"""`fairmot prepare` on the MOT17/MOT20 fixtures, and label conversion of the result."""

import os
from pathlib import Path

import numpy as np
import pytest

from fairmot.cli import main
from fairmot.data import collect_labels, read_manifest, validation_sequences, write_labels
from fairmot.data.prepare import prepare_dataset

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def prepared(tmp_path):
    return prepare_dataset(FIXTURES, tmp_path / "mot")


def test_keeps_one_mot17_variant_and_skips_test_split(prepared):
    manifest = read_manifest(prepared)
    assert manifest.sequences == ["MOT17-02-FRCNN", "MOT20-01"]
    assert manifest.name == "mot"
    src = FIXTURES / "MOT17" / "train" / "MOT17-02-FRCNN" / "img1" / "000001.jpg"
    dst = prepared / "MOT17-02-FRCNN" / "img1" / "000001.jpg"
    assert dst.read_bytes() == src.read_bytes()
    assert os.stat(dst).st_ino == os.stat(src).st_ino  # hard-linked, not copied


def test_labels_follow_mot_rules_with_id_offsets(prepared):
    labels = collect_labels(prepared, half_val=False)
    # MOT17-02: ids 1,2 (class 1, mark 1) -> 0,1; MOT20-01: ids 1,2 -> 2,3
    assert labels.nID == 4
    assert len(labels.samples) == 5
    first = labels.samples[0].labels
    # box (10,8,12,30) in 64x48: cx=16/64, cy=23/48, w=12/64, h=30/48
    np.testing.assert_allclose(first[0], [0, 0, 0.25, 23 / 48, 12 / 64, 30 / 48], rtol=1e-6)
    assert sorted(first[:, 1].tolist()) == [0, 1]
    mot20 = labels.samples[3].labels
    assert sorted(mot20[:, 1].tolist()) == [2, 3]


def test_half_val_splits_each_sequence(prepared):
    train = collect_labels(prepared, half_val=True)
    assert [s.image_path.name for s in train.samples] == ["000001.jpg", "000001.jpg"]
    val = validation_sequences(prepared)
    assert [v.name for v in val] == ["MOT17-02-FRCNN", "MOT20-01"]
    assert [p.name for p in val[0].image_paths] == ["000002.jpg", "000003.jpg"]
    assert sorted(set(val[0].gt[:, 0].astype(int))) == [1, 2]  # frames 2,3 renumbered
    assert val[1].frame_rate == 25 and len(val[1].gt) == 2


def test_write_labels_gives_reference_text_files(prepared, tmp_path):
    config = write_labels(prepared, tmp_path / "labels", half_val=False)
    assert config.nID == 4
    text = (config.label_root / "MOT17-02-FRCNN" / "img1" / "000001.txt").read_text()
    assert text.splitlines()[0] == "0 0 0.250000 0.479167 0.187500 0.625000"
    assert len(config.image_list.read_text().splitlines()) == 5


def test_a_bad_sequence_fails_before_anything_is_written(tmp_path):
    import shutil

    from fairmot.data import DatasetError

    mot = tmp_path / "in"
    shutil.copytree(FIXTURES, mot)
    # MOT20-01 sorts after MOT17-02: its bad seqinfo.ini must stop the job before MOT17 is copied.
    ini = mot / "MOT20" / "train" / "MOT20-01" / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("seqLength", "seqLengthX"))
    with pytest.raises(DatasetError, match=r"MOT20-01/seqinfo.ini: missing key 'seqlength'"):
        prepare_dataset(mot, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_prepare(tmp_path, capsys):
    assert main(["prepare", str(FIXTURES), str(tmp_path / "out"), "--link", "copy"]) == 0
    assert "2 sequences" in capsys.readouterr().out
    assert main(["prepare", str(tmp_path / "nothing"), str(tmp_path / "o2")]) == 2
    assert "not a directory" in capsys.readouterr().err
