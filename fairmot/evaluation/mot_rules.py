"""MOT16/17 evaluation rules, applied to one sequence before any metric is computed.

Rule (as the MOT Challenge devkit and TrackEval do): in each frame, result boxes matched (Hungarian,
IoU >= 0.5) to a ground-truth box of a distractor class are dropped, so boxes on static people,
people on vehicles, reflections and mannequins are neither rewarded nor punished; then only
ground-truth rows with mark != 0 and class 1 (pedestrian) are kept. MOT15-style ground truth (no
classes; read as class 1) only loses its mark-0 rows.
"""

from __future__ import annotations

import numpy as np

from fairmot.tracking.matching import iou_matrix

PEDESTRIAN = 1
# person_on_vehicle, static_person, distractor, reflection: the devkit's distractor classes.
DISTRACTOR_CLASSES = (2, 7, 8, 12)
MATCH_IOU = 0.5


def box_iou_tlwh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (N,M) between (x, y, w, h) boxes."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return iou_matrix(
        np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], axis=1),
        np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1),
    )


def apply_mot_rules(results: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(results (N,7), gt (M,9)) -> the results and ground truth that the metrics should see."""
    from scipy.optimize import linear_sum_assignment  # heavy import; only needed here

    gt_classes = gt[:, 7].astype(int)
    keep_result = np.ones(len(results), dtype=bool)
    if np.isin(gt_classes, DISTRACTOR_CLASSES).any() and len(results):
        for frame in np.unique(gt[np.isin(gt_classes, DISTRACTOR_CLASSES), 0]):
            g = np.flatnonzero(gt[:, 0] == frame)
            r = np.flatnonzero(results[:, 0] == frame)
            if len(r) == 0:
                continue
            iou = box_iou_tlwh(gt[g, 2:6], results[r, 2:6])
            iou[iou < MATCH_IOU - np.finfo(float).eps] = 0.0
            rows, cols = linear_sum_assignment(-iou)
            matched = iou[rows, cols] > 0
            distractor = np.isin(gt_classes[g[rows[matched]]], DISTRACTOR_CLASSES)
            keep_result[r[cols[matched][distractor]]] = False
    keep_gt = (gt[:, 6] != 0) & (gt_classes == PEDESTRIAN)
    return results[keep_result], gt[keep_gt]
