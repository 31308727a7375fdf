"""Quality of a trained model on whole sequences: detection, re-ID and tracking.

Used at the end of a half_val job (the second halves, val_* metrics) and by bench/quality.py
(held-out synthetic sequences). Frames go through the same FramePipeline as serving and
processing, so what is measured here is what a deployed model does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

if TYPE_CHECKING:
    from fairmot.tracking import FairByteConfig

# A detection counts as a hit when it overlaps a ground-truth box by IoU >= 0.5 (PASCAL/MOT).
IOU_MATCH = 0.5
# Re-ID queries are matched against detections at least this many frames away, so the answer
# cannot come from the near-identical neighbouring frame.
REID_MIN_FRAME_GAP = 10
# Frames per forward pass while validating.
VALIDATION_BATCH = 8


class SequenceLike(Protocol):
    """A MOTSequence or a ValidationSequence: frames on disk plus their ground truth."""

    @property
    def name(self) -> str: ...

    @property
    def frame_rate(self) -> int: ...

    @property
    def image_paths(self) -> Sequence[Path]: ...

    @property
    def gt(self) -> np.ndarray: ...


@dataclass
class QualityReport:
    """Detection precision/recall at IoU 0.5, re-ID top-1, and MOT metrics, all fractions."""

    precision: float
    recall: float
    reid_top1: float
    reid_queries: int
    mota: float
    idf1: float
    hota: float
    frames: int

    def as_metrics(self, prefix: str = "val_") -> dict[str, float]:
        values = {
            f"{prefix}precision": round(self.precision, 4),
            f"{prefix}recall": round(self.recall, 4),
            f"{prefix}reid_top1": round(self.reid_top1, 4),
            f"{prefix}mota": round(self.mota, 4),
            f"{prefix}idf1": round(self.idf1, 4),
            f"{prefix}hota": round(self.hota, 4),
        }
        # No identity seen twice means no re-ID query: leave the metric out, not a NaN that
        # the model card (numbers only) refuses when the model is served.
        return {k: v for k, v in values.items() if not math.isnan(v)}


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of xyxy boxes a (N,4) and b (M,4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_to_gt(det_boxes: np.ndarray, gt_boxes: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one (detection, gt) pairs with IoU >= 0.5, maximising total IoU."""
    iou = box_iou(det_boxes, gt_boxes)
    if iou.size == 0:
        return []
    rows, cols = linear_sum_assignment(-iou)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= IOU_MATCH]


def reid_top1(embeddings: np.ndarray, ids: np.ndarray, frames: np.ndarray) -> tuple[float, int]:
    """Share of queries whose nearest embedding (>= 10 frames away) has the same identity.

    Queries whose identity never appears 10 or more frames away are skipped (no right answer
    exists); returns (top-1 accuracy, number of queries).
    """
    if len(ids) == 0:
        return float("nan"), 0
    similarity = embeddings @ embeddings.T
    far = np.abs(frames[:, None] - frames[None, :]) >= REID_MIN_FRAME_GAP
    same = ids[:, None] == ids[None, :]
    answerable = (far & same).any(axis=1)
    similarity = np.where(far, similarity, -np.inf)
    best = similarity.argmax(axis=1)
    correct = ids[best] == ids
    queries = int(answerable.sum())
    if queries == 0:
        return float("nan"), 0
    return float(correct[answerable].mean()), queries


def validation_tracker(track_buffer: int) -> FairByteConfig:
    """The tracker a training job validates with and records in the model card: fairbyte (the
    default, configs/fairbyte.yaml), keeping lost tracks `track_buffer` frames."""
    from fairmot.tracking import FairByteConfig

    return FairByteConfig(track_buffer=track_buffer)


def evaluate_model(
    loaded: Any,
    sequences: Sequence[SequenceLike],
    *,
    device: Any = "cpu",
    conf_thres: float | None = None,
    log: Callable[[str], Any] = print,
    progress: bool = True,
    classes: dict[int, int] | None = None,
) -> QualityReport:
    """Detect and track every frame of each sequence; score detections, re-ID and tracks.

    Tracks come from the tracker a deployed model uses: its card's (FramePipeline). Detection
    precision and recall count the detections at or above the detection threshold (the card's
    unless `conf_thres` is given), not BYTE's low band the tracker also sees.
    loaded is a fairmot.model.LoadedModel (network + card); classes is the dataset's class map
    (gt class value -> class id; None: pedestrians): with several classes, detections count
    against every class's boxes and tracks are scored per class, pooled.
    """
    from tqdm import tqdm

    from fairmot.data.dataset import read_image
    from fairmot.data.mot import DEFAULT_CLASSES, training_rows
    from fairmot.evaluation import evaluate, evaluate_classes
    from fairmot.pipeline import FramePipeline

    pipeline = FramePipeline(
        loaded, device=device, conf_thres=conf_thres, batch_size=VALIDATION_BATCH
    )
    true_pos = num_det = num_gt = 0
    reid_hits = 0.0
    reid_queries = 0
    results: dict[str, np.ndarray] = {}
    gts: dict[str, np.ndarray] = {}
    total = sum(len(s.image_paths) for s in sequences)
    bar = tqdm(total=total, unit="frame", desc="validate", disable=not progress, leave=False)
    for seq in sequences:
        gt = np.asarray(seq.gt, dtype=np.float64)
        gts[seq.name] = gt
        people = training_rows(gt, classes or DEFAULT_CLASSES)
        tracker = pipeline.new_tracker(seq.frame_rate)
        rows: list[list[float]] = []
        emb_list, id_list, frame_list = [], [], []
        paths = list(seq.image_paths)
        for start in range(0, len(paths), VALIDATION_BATCH):
            chunk = paths[start : start + VALIDATION_BATCH]
            images = [read_image(p) for p in chunk]
            for offset, dets in enumerate(pipeline.detect(images)):
                frame = start + offset + 1
                frame_gt = people[people[:, 0] == frame]
                gt_boxes = frame_gt[:, 2:6].copy()
                gt_boxes[:, 2:] += gt_boxes[:, :2]
                shipped = dets.select(dets.scores > pipeline.conf_thres)
                pairs = match_to_gt(shipped.boxes, gt_boxes)
                true_pos += len(pairs)
                num_det += len(shipped)
                num_gt += len(frame_gt)
                for d, g in pairs:
                    emb_list.append(shipped.embeddings[d])
                    id_list.append(int(frame_gt[g, 1]))
                    frame_list.append(frame)
                for track in pipeline.update(tracker, dets):
                    x, y, w, h = (float(v) for v in track.tlwh)
                    rows.append([frame, track.track_id, x, y, w, h, track.score, track.class_id])
            bar.update(len(chunk))
        results[seq.name] = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
        if emb_list:
            top1, queries = reid_top1(
                np.stack(emb_list), np.asarray(id_list), np.asarray(frame_list)
            )
            if queries:
                reid_hits += top1 * queries
                reid_queries += queries
    bar.close()
    if classes is not None and len(set(classes.values())) > 1:
        overall = evaluate_classes(results, gts, classes).overall
    else:
        overall = evaluate(results, gts).overall
    report = QualityReport(
        precision=true_pos / num_det if num_det else 0.0,
        recall=true_pos / num_gt if num_gt else 0.0,
        reid_top1=reid_hits / reid_queries if reid_queries else float("nan"),
        reid_queries=reid_queries,
        mota=float(overall.get("mota", float("nan"))),
        idf1=float(overall.get("idf1", float("nan"))),
        hota=float(overall.get("hota", float("nan"))),
        frames=total,
    )
    log(
        f"validated {len(sequences)} sequence(s), {total} frames: precision {report.precision:.3f} "
        f"recall {report.recall:.3f} reid_top1 {report.reid_top1:.3f} MOTA {report.mota:.3f} "
        f"IDF1 {report.idf1:.3f} HOTA {report.hota:.3f}"
    )
    return report


def track_validation_halves(
    model: Any,
    card: Any,
    dataset_dir: Path,
    config: Any,
    *,
    device: Any = "cpu",
    log: Callable[[str], Any] = print,
) -> dict[str, float]:
    """val_* metrics of a half_val job: track the second half of every sequence."""
    from fairmot.data import validation_sequences
    from fairmot.data.labels import dataset_classes
    from fairmot.model import LoadedModel

    loaded = LoadedModel(model=model.eval(), card=card)
    report = evaluate_model(
        loaded,
        validation_sequences(dataset_dir),
        device=device,
        log=log,
        classes=dataset_classes(dataset_dir),
    )
    return report.as_metrics("val_")
