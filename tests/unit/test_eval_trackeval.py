"""Our evaluation against TrackEval's own MOT Challenge loader on the same files."""

import contextlib
import io
import shutil
from pathlib import Path

import motmetrics
import numpy as np
import pytest

from fairmot.evaluation import evaluate, read_mot_gt, read_mot_results, write_mot_results
from fairmot.tracking import JDETracker
from fairmot.tracking.simulation import DetectorNoise, detect, simulate_walkers

DATA = Path(motmetrics.__file__).parent / "data"


def trackeval_scores(gt_dir: Path, results_dir: Path, seq_lengths: dict, benchmark: str) -> dict:
    """HOTA, MOTA and IDF1 per sequence from TrackEval's MotChallenge2DBox dataset."""
    with contextlib.redirect_stdout(io.StringIO()):
        import trackeval

        evaluator = trackeval.Evaluator(
            {
                "PRINT_RESULTS": False,
                "PRINT_CONFIG": False,
                "TIME_PROGRESS": False,
                "OUTPUT_SUMMARY": False,
                "OUTPUT_DETAILED": False,
                "PLOT_CURVES": False,
                "LOG_ON_ERROR": None,
            }
        )
        dataset = trackeval.datasets.MotChallenge2DBox(
            {
                "GT_FOLDER": str(gt_dir),
                "TRACKERS_FOLDER": str(results_dir),
                "TRACKERS_TO_EVAL": ["ours"],
                "BENCHMARK": benchmark,
                "SKIP_SPLIT_FOL": True,
                "SEQ_INFO": seq_lengths,
                "PRINT_CONFIG": False,
            }
        )
        metrics = [
            trackeval.metrics.HOTA(),
            trackeval.metrics.CLEAR(),
            trackeval.metrics.Identity(),
        ]
        output, _ = evaluator.evaluate([dataset], metrics)
    by_seq = output["MotChallenge2DBox"]["ours"]
    return {
        seq: {
            "hota": float(np.mean(by_seq[seq]["pedestrian"]["HOTA"]["HOTA"])),
            "mota": float(by_seq[seq]["pedestrian"]["CLEAR"]["MOTA"]),
            "idf1": float(by_seq[seq]["pedestrian"]["Identity"]["IDF1"]),
        }
        for seq in seq_lengths
    }


def layout(tmp_path: Path, gt: dict, results: dict) -> tuple[Path, Path, dict]:
    gt_dir, results_dir = tmp_path / "gt", tmp_path / "trackers"
    lengths = {}
    for seq, rows in gt.items():
        (gt_dir / seq / "gt").mkdir(parents=True)
        np.savetxt(gt_dir / seq / "gt" / "gt.txt", rows, delimiter=",", fmt="%.3f")
        write_mot_results(results_dir / "ours" / "data" / f"{seq}.txt", results[seq])
        lengths[seq] = int(max(rows[:, 0].max(), results[seq][:, 0].max()))
    return gt_dir, results_dir, lengths


def test_tud_hota_mota_idf1_match_trackeval(tmp_path):
    seqs = ("TUD-Campus", "TUD-Stadtmitte")
    gt_dir, results_dir, lengths = tmp_path / "gt", tmp_path / "trackers", {}
    for seq in seqs:
        (gt_dir / seq / "gt").mkdir(parents=True)
        shutil.copy(DATA / seq / "gt.txt", gt_dir / seq / "gt" / "gt.txt")
        (results_dir / "ours" / "data").mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / seq / "test.txt", results_dir / "ours" / "data" / f"{seq}.txt")
        lengths[seq] = int(read_mot_gt(DATA / seq / "gt.txt")[:, 0].max())
    theirs = trackeval_scores(gt_dir, results_dir, lengths, "MOT15")
    ours = evaluate(
        {s: read_mot_results(DATA / s / "test.txt") for s in seqs},
        {s: read_mot_gt(DATA / s / "gt.txt") for s in seqs},
    )
    for seq in seqs:
        for key in ("hota", "mota", "idf1"):
            assert ours.sequences[seq][key] == pytest.approx(theirs[seq][key], abs=1e-4), key


def test_mot17_rules_match_trackeval_on_a_sequence_with_distractors(tmp_path):
    scene = simulate_walkers(8, 60, occlusions={2: (20, 30)}, seed=3)
    gt = scene.gt_rows()
    rng = np.random.default_rng(0)
    # Walkers 7 and 8 become a static person and a person on a vehicle; walker 6 is zero-marked.
    gt[gt[:, 1] == 7, 7] = 7
    gt[gt[:, 1] == 8, 7] = 2
    gt[gt[:, 1] == 6, 6] = 0
    tracker = JDETracker()
    noise = DetectorNoise(box_jitter=0.05, embedding_noise=0.05, miss_rate=0.1, false_positives=1)
    rows = []
    for f in range(scene.num_frames):
        for t in tracker.update(detect(scene, f, noise, rng)):
            rows.append([f + 1, t.track_id, *t.tlwh, t.score])
    results = np.array(rows)
    gt_dir, results_dir, lengths = layout(tmp_path, {"SIM-01": gt}, {"SIM-01": results})
    theirs = trackeval_scores(gt_dir, results_dir, lengths, "MOT17")["SIM-01"]
    ours = evaluate(
        {"SIM-01": read_mot_results(results_dir / "ours" / "data" / "SIM-01.txt")},
        {"SIM-01": read_mot_gt(gt_dir / "SIM-01" / "gt" / "gt.txt")},
    ).sequences["SIM-01"]
    for key in ("hota", "mota", "idf1"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-4), key
