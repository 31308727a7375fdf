"""CLEAR MOT and identity metrics with motmetrics, plus HOTA, per sequence and overall."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairmot.evaluation import compat
from fairmot.evaluation.hota import hota_available, hota_combine, hota_sequence, hota_summary
from fairmot.evaluation.mot_rules import apply_mot_rules
from fairmot.evaluation.report import EvalReport

# A result box must overlap its ground-truth box by IoU >= 0.5 to count (MOT Challenge rule).
IOU_THRESHOLD = 0.5
# Our key -> motmetrics metric name.
MOTMETRICS_NAMES = {
    "mota": "mota",
    "idf1": "idf1",
    "idp": "idp",
    "idr": "idr",
    "recall": "recall",
    "precision": "precision",
    "gt_ids": "num_unique_objects",
    "mt": "mostly_tracked",
    "pt": "partially_tracked",
    "ml": "mostly_lost",
    "fp": "num_false_positives",
    "fn": "num_misses",
    "ids": "num_switches",
    "fm": "num_fragmentations",
    "motp": "motp",
}


def _accumulator(results: np.ndarray, gt: np.ndarray) -> Any:
    """motmetrics accumulator of one sequence (as motmetrics.utils.compare_to_groundtruth)."""
    import motmetrics as mm

    compat.apply()
    acc = mm.MOTAccumulator(auto_id=False)
    for frame in np.union1d(results[:, 0], gt[:, 0]).astype(int):
        g = gt[gt[:, 0] == frame]
        r = results[results[:, 0] == frame]
        if len(g) and len(r):
            dist = mm.distances.iou_matrix(g[:, 2:6], r[:, 2:6], max_iou=IOU_THRESHOLD)
        else:
            dist = np.empty((len(g), len(r)))
        acc.update(g[:, 1].astype(int), r[:, 1].astype(int), dist, frameid=int(frame))
    return acc


def _as_rows(array: np.ndarray, columns: int, what: str) -> np.ndarray:
    rows = np.asarray(array, dtype=np.float64)
    if rows.size == 0:
        return np.zeros((0, columns))
    if rows.ndim != 2 or rows.shape[1] < columns:
        raise ValueError(f"{what} must be rows of {columns} MOT columns, got shape {rows.shape}")
    return rows[:, :columns]


def _row_to_metrics(row: Any) -> dict[str, float]:
    out = {key: float(row[name]) for key, name in MOTMETRICS_NAMES.items()}
    # motmetrics' MOTP is the mean (1 - IoU) of matches; MOT Challenge reports the mean IoU.
    out["motp"] = 1.0 - out["motp"] if np.isfinite(out["motp"]) else float("nan")
    return out


def evaluate(results: dict[str, np.ndarray], gt: dict[str, np.ndarray]) -> EvalReport:
    """Metrics of each sequence in `gt` (missing results count as empty) and overall.

    Overall CLEAR/identity numbers come from motmetrics' combined accumulator, overall HOTA from
    TrackEval's pooled counts (HOTA only where TrackEval is installed). Rows are MOT Challenge
    rows; the MOT16/17 rules are applied here.
    """
    import motmetrics as mm

    compat.apply()
    names = list(gt)
    if not names:
        raise ValueError("no ground-truth sequences to evaluate")
    with_hota = hota_available()
    accumulators, hota_states = [], {}
    for name in names:
        kept_results, kept_gt = apply_mot_rules(
            _as_rows(results.get(name, np.zeros((0, 7))), 7, f"{name} results"),
            _as_rows(gt[name], 9, f"{name} ground truth"),
        )
        accumulators.append(_accumulator(kept_results, kept_gt))
        if with_hota:
            hota_states[name] = hota_sequence(kept_results, kept_gt)
    host = mm.metrics.create()
    summary = host.compute_many(
        accumulators,
        metrics=list(MOTMETRICS_NAMES.values()),
        names=names,
        generate_overall=True,
    )
    sequences = {}
    for name in names:
        sequences[name] = _row_to_metrics(summary.loc[name])
        if with_hota:
            sequences[name].update(hota_summary(hota_states[name]))
    overall = _row_to_metrics(summary.loc["OVERALL"])
    if with_hota:
        overall.update(hota_summary(hota_combine(hota_states)))
    return EvalReport(sequences=sequences, overall=overall)


def evaluate_sequence(results: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """Metrics of one sequence: mota, idf1, idp, idr, mt, ml, fp, fn, ids, fm, motp, hota, ..."""
    return evaluate({"sequence": results}, {"sequence": gt}).sequences["sequence"]
