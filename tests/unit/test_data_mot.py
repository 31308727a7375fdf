"""MOT Challenge reader on hand-written MOT17/MOT20 fixtures, and its error messages."""

import shutil
from pathlib import Path

import pytest

from fairmot.data import DatasetError, read_sequence
from fairmot.data.mot import pedestrian_rows

FIXTURES = Path(__file__).parents[1] / "fixtures"
MOT17_02 = FIXTURES / "MOT17" / "train" / "MOT17-02-FRCNN"
MOT20_01 = FIXTURES / "MOT20" / "train" / "MOT20-01"


def test_reads_mot17_sequence():
    seq = read_sequence(MOT17_02)
    assert (seq.name, seq.frame_rate, seq.width, seq.height, seq.length) == (
        "MOT17-02-FRCNN",
        30,
        64,
        48,
        3,
    )
    assert seq.image_path(2) == MOT17_02 / "img1" / "000002.jpg"
    assert seq.gt.shape == (12, 9)
    assert seq.gt[0].tolist() == [1, 1, 10, 8, 12, 30, 1, 1, 1]


def test_reads_mot20_sequence():
    seq = read_sequence(MOT20_01)
    assert (seq.frame_rate, seq.length) == (25, 2)
    assert len(seq.image_paths) == 2


def test_pedestrian_rule_drops_distractors_and_zero_marks():
    kept = pedestrian_rows(read_sequence(MOT17_02).gt)
    # classes 2, 7, 8, 12 and the class-1 row with mark 0 go; ids 1 and 2 remain
    assert sorted(set(kept[:, 1].astype(int))) == [1, 2]
    assert len(kept) == 6


@pytest.fixture
def seq_copy(tmp_path):
    dst = tmp_path / "MOT17-02-FRCNN"
    shutil.copytree(MOT17_02, dst)
    return dst


def test_malformed_gt_row_names_file_and_line(seq_copy):
    gt = seq_copy / "gt" / "gt.txt"
    gt.write_text(gt.read_text() + "3,8,oops,1,1,1,1,1,1\n")
    with pytest.raises(DatasetError, match=r"gt\.txt:13: not numbers"):
        read_sequence(seq_copy)


def test_short_gt_row_is_an_error(seq_copy):
    (seq_copy / "gt" / "gt.txt").write_text("1,1,2,3\n")
    with pytest.raises(DatasetError, match=r"gt\.txt:1: expected frame,id"):
        read_sequence(seq_copy)


def test_missing_image_is_named(seq_copy):
    (seq_copy / "img1" / "000003.jpg").unlink()
    with pytest.raises(DatasetError, match=r"000003\.jpg: missing image"):
        read_sequence(seq_copy)


def test_empty_sequence_is_an_error(seq_copy):
    ini = seq_copy / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("seqLength=3", "seqLength=0"))
    with pytest.raises(DatasetError, match="seqlength=0 must be positive"):
        read_sequence(seq_copy)


def test_missing_seqinfo_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match=r"seqinfo\.ini: missing"):
        read_sequence(tmp_path)


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)
