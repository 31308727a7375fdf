"""Synthetic ground truth is amodal (boxes reach past the image where people walk in or out), and
both consumers read it so: training targets give back the unclipped box, and evaluation (IoU 0.5,
the MOT rules) scores boxes that stop at the image edge as wrong where the person is cut by it."""

from pathlib import Path

import numpy as np
import pytest

from fairmot.data import read_sequence
from fairmot.data.dataset import TrainingSet
from fairmot.data.labels import collect_labels
from fairmot.data.synth import generate_dataset
from fairmot.data.targets import DOWN_RATIO
from fairmot.evaluation import evaluate_sequence

W, H = 160, 96


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("amodal")
    generate_dataset(out, sequences=1, frames=120, width=W, height=H, seed=3)
    return out


def crossing(gt: np.ndarray, margin: float = 3.0) -> np.ndarray:
    """Rows whose box reaches `margin` px or more past the left or right edge, marked for use."""
    x, w = gt[:, 2], gt[:, 4]
    return ((x <= -margin) | (x + w >= W + margin)) & (gt[:, 6] == 1)


def test_training_targets_give_back_the_boxes_past_the_border(sequence: Path) -> None:
    gt = read_sequence(sequence / "SYN3-01").gt
    frames = np.unique(gt[crossing(gt), 0]).astype(int)
    assert len(frames) >= 5, "the sequence should have people walking in or out"
    labels = collect_labels(sequence, half_val=False)
    # The input is the image's own size: the letterbox is the identity, targets are in pixels.
    dataset = TrainingSet(labels.samples, labels.nID, W, H, augment=False, cache=False)
    out_w = W // DOWN_RATIO
    for frame in frames[:: max(1, len(frames) // 5)]:
        item = dataset[int(frame) - 1]
        k = np.flatnonzero(item["reg_mask"])
        cx = item["ind"][k] % out_w + item["reg"][k, 0]
        cy = item["ind"][k] // out_w + item["reg"][k, 1]
        left, top, right, bottom = item["wh"][k].T
        boxes = DOWN_RATIO * np.stack([cx - left, cy - top, cx + right, cy + bottom], axis=1)
        rows = gt[(gt[:, 0] == frame) & (gt[:, 6] == 1)]
        want = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]
        order = np.lexsort(want.T[::-1])
        np.testing.assert_allclose(boxes[np.lexsort(boxes.T[::-1])], want[order], atol=0.02)
        assert (boxes[:, 0] < 0).any() or (boxes[:, 2] > W).any()


def test_evaluation_scores_the_amodal_boxes_and_not_the_clipped_ones(sequence: Path) -> None:
    gt = read_sequence(sequence / "SYN3-01").gt
    results = gt[gt[:, 6] == 1][:, :7].copy()
    results[:, 6] = 1.0  # score column
    exact = evaluate_sequence(results, gt)
    assert exact["mota"] == pytest.approx(1.0) and exact["idf1"] == pytest.approx(1.0)
    # The same tracks cut at the image edge: people half out of frame fall below IoU 0.5.
    clipped = results.copy()
    x0, y0 = np.clip(clipped[:, 2], 0, W), np.clip(clipped[:, 3], 0, H)
    x1 = np.clip(results[:, 2] + results[:, 4], 0, W)
    y1 = np.clip(results[:, 3] + results[:, 5], 0, H)
    clipped[:, 2:6] = np.c_[x0, y0, x1 - x0, y1 - y0]
    # Each box whose clipped part overlaps its whole box below IoU 0.5 is a miss plus a false
    # positive; every other box still matches.
    kept = (clipped[:, 4] * clipped[:, 5]) / (results[:, 4] * results[:, 5])
    lost = int(np.count_nonzero(kept < 0.5))
    assert lost > 0
    cut = evaluate_sequence(clipped, gt)
    assert (cut["fn"], cut["fp"]) == (lost, lost) and cut["mota"] < 1.0
