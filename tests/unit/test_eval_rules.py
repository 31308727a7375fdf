"""MOT16/17 rules, file round trips and edge cases of the evaluation."""

import motmetrics as mm
import numpy as np
import pytest

from fairmot.evaluation import (
    compat,
    evaluate_sequence,
    load_gt,
    load_results,
    read_mot_results,
    write_mot_results,
)
from fairmot.evaluation.mot_rules import apply_mot_rules


def gt_rows(frames=10, ids=(1, 2)):
    rows = []
    for f in range(1, frames + 1):
        for i in ids:
            rows.append([f, i, 100 * i + f, 50, 40, 100, 1, 1, 1])
    return np.array(rows, float)


def test_perfect_results_score_one_everywhere():
    gt = gt_rows()
    results = np.column_stack([gt[:, :6], np.ones(len(gt))])
    m = evaluate_sequence(results, gt)
    assert (m["mota"], m["idf1"], m["hota"], m["motp"]) == (1.0, 1.0, 1.0, 1.0)
    assert (m["fp"], m["fn"], m["ids"], m["mt"]) == (0, 0, 0, 2)


def test_swapped_ids_count_as_switches():
    gt = gt_rows(ids=(1, 2))
    gt[:, 2] = np.where(gt[:, 1] == 1, 100, 300)  # stationary, far apart
    results = np.column_stack([gt[:, :6], np.ones(len(gt))])
    late = results[:, 0] > 5
    results[late, 1] = 3 - results[late, 1]  # ids 1 and 2 swap at frame 6
    m = evaluate_sequence(results, gt)
    assert m["ids"] == 2
    assert m["idf1"] == pytest.approx(0.5)
    assert m["mota"] == pytest.approx(1 - 2 / 20)
    assert m["hota"] < 0.8


def test_mark_zero_and_non_pedestrian_gt_is_ignored_and_distractor_matches_dropped():
    gt = np.array(
        [
            [1, 1, 0, 0, 40, 100, 1, 1, 1],  # pedestrian
            [1, 2, 200, 0, 40, 100, 0, 1, 1],  # mark 0: ignored
            [1, 3, 400, 0, 40, 100, 1, 7, 1],  # static person: distractor
            [1, 4, 600, 0, 40, 100, 1, 3, 1],  # car: not evaluated, not a distractor
        ]
    )
    results = np.array(
        [
            [1, 10, 0, 0, 40, 100, 1],
            [1, 11, 402, 0, 40, 100, 1],  # on the distractor: dropped, not a false positive
            [1, 12, 600, 0, 40, 100, 1],  # on the car: a false positive
        ]
    )
    kept_results, kept_gt = apply_mot_rules(results, gt)
    assert kept_gt[:, 1].tolist() == [1]
    assert kept_results[:, 1].tolist() == [10, 12]
    m = evaluate_sequence(results, gt)
    assert (m["fp"], m["fn"]) == (1, 0)


def test_results_round_trip_in_mot_challenge_format(tmp_path):
    rows = np.array([[2, 1, 10.5, 20, 30, 40, 0.9], [1, 2, 1, 2, 3, 4, 0.5]])
    path = tmp_path / "seq.txt"
    write_mot_results(path, rows)
    assert path.read_text().splitlines()[0] == "1,2,1.00,2.00,3.00,4.00,0.5,-1,-1,-1"
    np.testing.assert_allclose(read_mot_results(path), rows[::-1])
    (tmp_path / "six.txt").write_text("1,1,0,0,10,10\n")
    assert read_mot_results(tmp_path / "six.txt").tolist() == [[1, 1, 0, 0, 10, 10, 1]]
    (tmp_path / "empty.txt").write_text("")
    assert read_mot_results(tmp_path / "empty.txt").shape == (0, 7)


def test_gt_and_results_are_found_by_sequence(tmp_path):
    for name in ("A", "B"):
        (tmp_path / "data" / name / "gt").mkdir(parents=True)
        np.savetxt(tmp_path / "data" / name / "gt" / "gt.txt", gt_rows(2), delimiter=",")
    assert sorted(load_gt(tmp_path / "data")) == ["A", "B"]
    assert list(load_gt(tmp_path / "data" / "A")) == ["A"]
    assert list(load_gt(tmp_path / "data" / "A" / "gt" / "gt.txt")) == ["A"]
    write_mot_results(tmp_path / "res" / "B.txt", np.zeros((0, 7)))
    assert list(load_results(tmp_path / "res", ["A", "B"])) == ["B"]
    assert list(load_results(tmp_path / "res" / "B.txt", ["A", "B"])) == ["B"]
    with pytest.raises(ValueError, match="directory"):
        load_results(tmp_path / "res" / "B.txt", ["A", "C"])


def test_empty_results_miss_everything():
    m = evaluate_sequence(np.zeros((0, 7)), gt_rows())
    assert m["fn"] == 20 and m["mota"] == 0.0 and m["hota"] == 0.0


def test_compat_merge_concatenates_accumulators():
    compat.apply()
    accs = []
    for _ in range(2):
        acc = mm.MOTAccumulator(auto_id=True)
        acc.update([1, 2], [1], [[0.1], [np.nan]])
        accs.append(acc)
    merged = mm.MOTAccumulator.merge_event_dataframes(accs)
    assert len(merged) == 2 * len(accs[0].events)
    assert merged.index.get_level_values(0).unique().tolist() == [0, 1]


def test_without_trackeval_every_metric_but_hota_is_computed(monkeypatch):
    # The container images and plain `pip install fairmot` have no TrackEval.
    monkeypatch.setattr("fairmot.evaluation.metrics.hota_available", lambda: False)
    gt = gt_rows()
    m = evaluate_sequence(np.column_stack([gt[:, :6], np.ones(len(gt))]), gt)
    assert (m["mota"], m["idf1"]) == (1.0, 1.0)
    assert "hota" not in m
