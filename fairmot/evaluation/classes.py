"""Per-class evaluation of multi-class tracking results.

Result files carry each track's class id (tracks.txt's class column); ground truth carries MOT
gt class values (column 8). A class map (gt class value -> class id, a dataset manifest's
`classes`; default MOT17's pedestrians as class 0) pairs them. Each class is scored on its own,
as if it were MOT17's pedestrians (its gt rows, with mark != 0, against its tracks); the
pedestrian class keeps the distractor rule. The overall numbers pool every class's matches.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fairmot.evaluation.metrics import evaluate
from fairmot.evaluation.mot_files import CLASS_COLUMN, RESULT_COLUMNS
from fairmot.evaluation.mot_rules import DISTRACTOR_CLASSES, PEDESTRIAN
from fairmot.evaluation.report import EvalReport

GT_CLASS = 7  # gt column of the class value


def class_ground_truth(gt: np.ndarray, values: list[int]) -> np.ndarray:
    """gt rows of the class whose gt values are `values`, relabelled pedestrian (what the MOT
    rules keep); the distractor rows stay only for the pedestrian class."""
    keep = np.isin(gt[:, GT_CLASS], values)
    if PEDESTRIAN in values:
        keep |= np.isin(gt[:, GT_CLASS], DISTRACTOR_CLASSES)
    out = gt[keep].copy()
    out[np.isin(out[:, GT_CLASS], values), GT_CLASS] = PEDESTRIAN
    return out


def evaluate_classes(
    results: Mapping[str, np.ndarray],
    gt: Mapping[str, np.ndarray],
    classes: Mapping[int, int],
) -> EvalReport:
    """Metrics per sequence and class (`SEQ/class K`), per class and overall.

    results: (N,8) rows with class ids (read_mot_results(..., classes=True)); a missing
    sequence counts as empty."""
    indices = sorted(set(classes.values()))
    by_class: dict[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
    for index in indices:
        values = [v for v, k in classes.items() if k == index]
        mine_r, mine_g = {}, {}
        for name, seq_gt in gt.items():
            rows = np.asarray(results.get(name, np.zeros((0, RESULT_COLUMNS + 1))))
            rows = rows.reshape(-1, RESULT_COLUMNS + 1)
            mine_r[name] = rows[rows[:, CLASS_COLUMN] == index, :RESULT_COLUMNS]
            mine_g[name] = class_ground_truth(np.asarray(seq_gt), values)
        by_class[index] = (mine_r, mine_g)
    pooled_r = {f"{n}/class {k}": r for k, (rs, _) in by_class.items() for n, r in rs.items()}
    pooled_g = {f"{n}/class {k}": g for k, (_, gs) in by_class.items() for n, g in gs.items()}
    pooled = evaluate(pooled_r, pooled_g)
    per_class = {f"class {k}": evaluate(*by_class[k]).overall for k in indices}
    return EvalReport(sequences=pooled.sequences, overall=pooled.overall, classes=per_class)
