"""Analytics of tracked video against the truth: held-out synthetic sequences tracked by a
trained `lite` model (`fairmot track --scene`), compared with what the generator knows.

The model is FAIRMOT_ANALYTICS_MODEL when set (e.g. bench/quality.py's), else one trained
here with the `quick` recipe (450 steps) on 100 x 25 synthetic frames.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from fairmot.cli import main
from fairmot.data.synth.truth import compare_with_truth
from fairmot.data.synth.writer import SCENE_FILE, TRUTH_FILE, generate_dataset
from fairmot.evaluation.mot_files import read_mot_results

# Training takes ~2 minutes on a quiet 2-core machine; it took 20 on one shared by many jobs.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]
TRAIN_MINUTES_CAP = 50
TRAIN_SEED = 1001  # as bench/quality.py
TEST_SEED = 777_016  # held out: no training set anywhere uses it
# A person who stood still over a track's span (true mean speed below STILL_MPS) has no
# relative error to speak of: their tracked speed must read below STANDING_MPS instead, under
# the slowest walker the generator makes (~0.4 m/s).
STILL_MPS = 0.05
STANDING_MPS = 0.2


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("FAIRMOT_ANALYTICS_MODEL")
    if given:
        return Path(given)
    from fairmot.train.hparams import TrainConfig
    from fairmot.train.loop import train
    from fairmot.train.recipes import recipe

    root = tmp_path_factory.mktemp("analytics-model")
    data = generate_dataset(
        root / "train", sequences=100, frames=25, width=320, height=192, seed=TRAIN_SEED
    )
    # The recipe's steps all run, however busy the machine (its minutes cap is for the demo).
    hyperparameters = {**recipe("quick"), "max_minutes": str(TRAIN_MINUTES_CAP)}
    train(TrainConfig.from_strings(hyperparameters), data, root / "model", None)
    return root / "model"


@pytest.fixture(scope="module")
def speeds(model: Path, tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    """Tracked/true mean speed of every track that followed one person for two seconds, after
    checking line counts and total distance on the way."""
    tmp_path = tmp_path_factory.mktemp("analytics-heldout")
    data = generate_dataset(
        tmp_path / "test", sequences=2, frames=300, width=320, height=192, seed=TEST_SEED,
        analytics=True,
    )  # fmt: skip
    distance, true_distance, ratios = 0.0, 0.0, []
    for seq in sorted(p for p in data.iterdir() if p.is_dir()):
        out = tmp_path / "tracked" / seq.name
        args = ["track", str(seq), "--model", str(model), "--out", str(out), "--no-video"]
        assert main([*args, "--quiet", "--scene", str(seq / SCENE_FILE)]) == 0
        truth = json.loads((seq / TRUTH_FILE).read_text())
        report = json.loads((out / "analytics.json").read_text())
        result = compare_with_truth(
            report,
            truth,
            read_mot_results(out / "tracks.txt"),
            read_mot_results(seq / "gt" / "gt.txt"),
        )
        for name, counts in result["lines"].items():
            for direction, (got, true) in counts.items():
                allowed = max(1, round(0.1 * true))
                assert abs(got - true) <= allowed, f"{seq.name} {name} {direction}: {got} vs {true}"
        distance += result["distance_m"][0]
        true_distance += result["distance_m"][1]
        for _, _, got, true in result["speeds"]:
            if true < STILL_MPS:
                assert got < STANDING_MPS, f"{seq.name}: a standing person reads {got} m/s"
            else:
                ratios.append(got / true)
    assert distance == pytest.approx(true_distance, rel=0.15)
    assert len(ratios) >= 6, "too few tracks followed one person for 2 s to judge speeds"
    within = sum(abs(r - 1) <= 0.15 for r in ratios)
    print(
        f"speed tracked/true, {len(ratios)} tracks: median {np.median(ratios):.3f}, {within} in 15%"
    )
    return ratios


def test_tracked_counts_distance_and_median_speed_match_the_truth(speeds: list[float]) -> None:
    assert abs(float(np.median(speeds)) - 1) <= 0.15, sorted(speeds)


def test_every_followed_track_has_its_true_mean_speed(speeds: list[float]) -> None:
    """The issue's rule: every track followed for two seconds or more, not only the median.
    Measured (bench/analytics.py, this test's recipe and seeds): 7 of 11 before path lengths
    were summed a smoothing window apart and the synthetic boxes were amodal, 13 of 14 after,
    11 of 11 (worst 0.851, a fast walker's sharp turn) once speeds skipped boxes cut by the
    frame border and the model's card chose fairbyte."""
    assert all(abs(r - 1) <= 0.15 for r in speeds), sorted(round(r, 3) for r in speeds)
