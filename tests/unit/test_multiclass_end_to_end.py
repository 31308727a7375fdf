"""Two classes end to end, through the CLI: `fairmot synth --classes 2` (people and carts) ->
`fairmot train` (lite, CPU) -> `fairmot track` on a held-out sequence -> `fairmot eval` per class.

It fails if a class id is lost anywhere on the way: the model must find both classes, each
class's tracks must sit on that class's ground truth, and each class must score well on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fairmot.cli import main
from fairmot.evaluation import read_mot_gt, read_mot_results
from fairmot.evaluation.mot_rules import box_iou_tlwh

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]
TRAIN_SEED = 4242
TEST_SEED = 777_111  # held out: no training set uses it
SIZE = ["--width", "320", "--height", "192"]
# The `quick` recipe's model (lite, 320x192) on 40 x 25 two-class frames:
# 3 epochs of 125 steps (every step runs, however busy the machine: max_minutes is a far net).
TRAIN = ["--recipe", "quick", "--num-iters", "125", "--max-minutes", "50"]
MATCH_IOU = 0.5
# A model this short-trained is sure of fewer boxes than the 0.4 default asks (recall 40-60%
# at 0.3, 25-45% at 0.4, both classes' precision above 74%; measured 2026-12-02).
CONF_THRES = "0.3"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("two-classes")
    synth = ["synth", "--classes", "2", *SIZE]
    train = [str(root / "train"), "--sequences", "40", "--frames", "25", "--seed", str(TRAIN_SEED)]
    assert main([*synth, *train]) == 0
    test = [str(root / "test"), "--sequences", "1", "--frames", "60", "--seed", str(TEST_SEED)]
    assert main([*synth, *test]) == 0
    assert main(["train", str(root / "train"), "--out", str(root / "model"), *TRAIN]) == 0
    seq = next(p for p in (root / "test").iterdir() if p.is_dir())
    out = root / "tracked"
    track = ["track", str(seq), "--model", str(root / "model"), "--out", str(out), "--no-video"]
    assert main([*track, "--quiet", "--conf-thres", CONF_THRES]) == 0
    (root / "results").mkdir()
    (root / "results" / f"{seq.name}.txt").write_bytes((out / "tracks.txt").read_bytes())
    metrics = root / "metrics.json"
    assert main(["eval", str(root / "results"), str(root / "test"), "--out", str(metrics)]) == 0
    return {"model": root / "model", "seq": seq, "tracked": out, "metrics": metrics}


def test_the_card_records_two_classes_and_their_identities(run: dict[str, Path]) -> None:
    card = json.loads((run["model"] / "model.json").read_text())
    assert card["num_classes"] == 2
    assert len(card["class_nID"]) == 2 and min(card["class_nID"]) > 0
    assert sum(card["class_nID"]) == card["nID"]


def test_each_class_is_tracked_on_its_own_ground_truth(run: dict[str, Path]) -> None:
    tracks = read_mot_results(run["tracked"] / "tracks.txt", classes=True)
    gt = read_mot_gt(run["seq"] / "gt" / "gt.txt")
    gt = gt[gt[:, 6] != 0]
    gt_class_id = {1: 0, 6: 1}  # the synthetic dataset's class map
    assert set(np.unique(tracks[:, 7]).astype(int).tolist()) == {0, 1}
    agree = matched = 0
    for frame in np.unique(tracks[:, 0]):
        mine, truth = tracks[tracks[:, 0] == frame], gt[gt[:, 0] == frame]
        if not len(truth):
            continue
        iou = box_iou_tlwh(mine[:, 2:6], truth[:, 2:6])
        best = iou.argmax(axis=1)
        hit = iou.max(axis=1) >= MATCH_IOU
        matched += int(hit.sum())
        agree += int(np.sum(mine[hit, 7] == [gt_class_id[int(c)] for c in truth[best[hit], 7]]))
    assert matched > 100
    assert agree / matched > 0.95, f"{agree} of {matched} matched tracks have their gt's class"
    # One id, one class: a track never changes class.
    for track_id in np.unique(tracks[:, 1]):
        assert len(np.unique(tracks[tracks[:, 1] == track_id, 7])) == 1
    frames = json.loads((run["tracked"] / "tracks.json").read_text())["frames"]
    json_classes = {t["class_id"] for f in frames for t in f["tracks"]}
    assert json_classes == {0, 1}


def test_eval_scores_each_class_well_above_chance(run: dict[str, Path]) -> None:
    """Chance is MOTA <= 0 (a box anywhere else is a false positive and a miss); measured on this
    run: people MOTA 39%, IDF1 66%, HOTA 48%; carts 37%, 55%, 35%."""
    report = json.loads(run["metrics"].read_text())
    assert set(report["classes"]) == {"class 0", "class 1"}
    for name, metrics in report["classes"].items():
        print(name, {k: round(metrics[k], 3) for k in ("mota", "idf1", "hota") if k in metrics})
        assert metrics["mota"] > 0.25, name
        assert metrics["idf1"] > 0.4, name
        if metrics.get("hota") is not None:
            assert metrics["hota"] > 0.25, name
