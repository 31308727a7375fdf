"""HOTA (Luiten et al., IJCV 2021) through TrackEval's own implementation, fed from memory.

TrackEval 1.3.0 is installed without its dependencies (they pull the GUI OpenCV): only its HOTA
metric class is used, with data prepared here exactly as its MOTChallenge loader would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from typing import Any

import numpy as np

from fairmot.evaluation.mot_rules import box_iou_tlwh

HotaState = dict[str, Any]


def hota_available() -> bool:
    """Whether TrackEval is installed (`make` installs it without its dependencies; an
    environment without it still gets every CLEAR MOT and identity metric)."""
    return importlib.util.find_spec("trackeval") is not None


def _hota_metric() -> Any:
    # trackeval prints a notice about optional datasets on import; keep our output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        from trackeval.metrics import HOTA
    return HOTA({"PRINT_CONFIG": False})


def _relabel(ids_per_frame: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    unique = np.unique(np.concatenate(ids_per_frame)) if ids_per_frame else np.zeros(0)
    lookup = {int(v): i for i, v in enumerate(unique)}
    return [np.array([lookup[int(v)] for v in ids], dtype=int) for ids in ids_per_frame], len(
        unique
    )


def trackeval_data(results: np.ndarray, gt: np.ndarray) -> dict[str, Any]:
    """TrackEval's per-sequence input from results (N,7) and ground truth (M,9) rows, both already
    filtered by the MOT rules."""
    frames = np.concatenate([results[:, 0], gt[:, 0]])
    num_timesteps = int(frames.max()) if len(frames) else 0
    gt_ids, tr_ids, similarity = [], [], []
    for frame in range(1, num_timesteps + 1):
        g = gt[gt[:, 0] == frame]
        r = results[results[:, 0] == frame]
        gt_ids.append(g[:, 1].astype(int))
        tr_ids.append(r[:, 1].astype(int))
        similarity.append(box_iou_tlwh(g[:, 2:6], r[:, 2:6]))
    gt_ids, num_gt_ids = _relabel(gt_ids)
    tr_ids, num_tr_ids = _relabel(tr_ids)
    return {
        "num_timesteps": num_timesteps,
        "num_gt_ids": num_gt_ids,
        "num_tracker_ids": num_tr_ids,
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(results),
        "gt_ids": gt_ids,
        "tracker_ids": tr_ids,
        "similarity_scores": similarity,
    }


def hota_sequence(results: np.ndarray, gt: np.ndarray) -> HotaState:
    """TrackEval's HOTA state for one sequence (combine several with `hota_combine`)."""
    return dict(_hota_metric().eval_sequence(trackeval_data(results, gt)))


def hota_combine(states: dict[str, HotaState]) -> HotaState:
    """Overall HOTA over sequences, pooling their counts as TrackEval does."""
    return dict(_hota_metric().combine_sequences(states))


def hota_summary(state: HotaState) -> dict[str, float]:
    """The headline numbers (averaged over TrackEval's 19 IoU thresholds), as fractions."""
    return {
        "hota": float(np.mean(state["HOTA"])),
        "deta": float(np.mean(state["DetA"])),
        "assa": float(np.mean(state["AssA"])),
        "loca": float(np.mean(state["LocA"])),
    }
