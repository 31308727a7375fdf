"""Evaluation against motmetrics' own published numbers on its bundled TUD sequences."""

import json
from pathlib import Path

import motmetrics
import numpy as np
import pytest

from fairmot.cli import main
from fairmot.evaluation import evaluate, load_gt, read_mot_gt, read_mot_results

DATA = Path(motmetrics.__file__).parent / "data"
SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte")
# motmetrics' tests/test_metrics.py::test_motchallenge_files expected values (motp there is the
# mean 1 - IoU; we report the MOT Challenge mean IoU).
EXPECTED = {
    "TUD-Campus": (0.557659, 0.729730, 0.451253, 8, 1, 6, 1, 13, 150, 7, 7, 0.526462, 0.277201),
    "TUD-Stadtmitte": (
        0.644619,
        0.819760,
        0.531142,
        10,
        5,
        4,
        1,
        45,
        452,
        7,
        6,
        0.564014,
        0.345904,
    ),
    "OVERALL": (0.624296, 0.799176, 0.512211, 18, 6, 10, 2, 58, 602, 14, 13, 0.555116, 0.330177),
}
KEYS = ("idf1", "idp", "idr", "gt_ids", "mt", "pt", "ml", "fp", "fn", "ids", "fm", "mota")
# TrackEval's HOTA on the same files (its MotChallenge2DBox loader, MOT15 rules).
EXPECTED_HOTA = {"TUD-Campus": 0.3914, "TUD-Stadtmitte": 0.3978}


@pytest.fixture(scope="module")
def report():
    gt = {name: read_mot_gt(DATA / name / "gt.txt") for name in SEQUENCES}
    results = {name: read_mot_results(DATA / name / "test.txt") for name in SEQUENCES}
    return evaluate(results, gt)


@pytest.mark.parametrize("name", [*SEQUENCES, "OVERALL"])
def test_clear_and_identity_metrics_match_motmetrics_published_values(report, name):
    metrics = report.overall if name == "OVERALL" else report.sequences[name]
    *counts, motp_distance = EXPECTED[name]
    for key, expected in zip(KEYS, counts, strict=True):
        assert metrics[key] == pytest.approx(expected, abs=1e-3), key
    assert metrics["motp"] == pytest.approx(1 - motp_distance, abs=1e-3)


@pytest.mark.parametrize("name", SEQUENCES)
def test_hota_matches_trackeval(report, name):
    assert report.sequences[name]["hota"] == pytest.approx(EXPECTED_HOTA[name], abs=1e-3)
    assert 0 < report.overall["hota"] < 1


def test_eval_command_prints_table_and_writes_json(tmp_path, capsys):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    for name in SEQUENCES:
        (results_dir / f"{name}.txt").write_text((DATA / name / "test.txt").read_text())
    out = tmp_path / "metrics.json"
    assert main(["eval", str(results_dir), str(DATA), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "TUD-Campus" in printed and "OVERALL" in printed and "52.6%" in printed
    saved = json.loads(out.read_text())
    assert saved["overall"]["mota"] == pytest.approx(0.555116, abs=1e-3)
    assert set(saved["sequences"]) == set(SEQUENCES)


def test_eval_command_accepts_one_results_file_and_one_gt_file(capsys):
    seq = DATA / "TUD-Campus"
    assert main(["eval", str(seq / "test.txt"), str(seq / "gt.txt")]) == 0
    assert "55.8%" in capsys.readouterr().out


def test_eval_command_reports_missing_paths(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "none"), str(DATA)]) == 2
    assert "results not found" in capsys.readouterr().err


def test_gt_loader_reads_mot15_world_coordinates_as_pedestrians():
    gt = load_gt(DATA / "TUD-Stadtmitte")["TUD-Stadtmitte"]
    assert gt.shape[1] == 9
    assert np.all(gt[:, 7] == 1)
