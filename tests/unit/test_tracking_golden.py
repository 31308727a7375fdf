"""The `fairmot` tracker is the FairMOT reference association, pinned by golden tracks.

tests/unit/data/tracking_golden_fairmot.npz holds 80 frames of simulated detections (10 crossing
walkers with occlusions, box jitter, noisy 16-d embeddings, misses, false positives, scores spread
over 0.2-1.0) and the confirmed tracks the tracker returned for them, recorded while the tracker
was still the port checked frame by frame against the reference's update(). Any change to its
association, thresholds or Kalman filter changes these tracks.
"""

import itertools
from pathlib import Path

import numpy as np
import pytest

from fairmot.tracking import Detections, JDETracker, TrackerConfig, create_tracker

GOLDEN = Path(__file__).parent / "data" / "tracking_golden_fairmot.npz"


def golden_frames() -> tuple[list[Detections], np.ndarray]:
    data = np.load(GOLDEN)
    bounds = np.concatenate([[0], np.cumsum(data["counts"])])
    frames = [
        Detections(data["boxes"][a:b], data["scores"][a:b], data["embeddings"][a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    return frames, data["tracks"]


def track_rows(tracker, frames: list[Detections]) -> np.ndarray:
    rows = []
    for f, detections in enumerate(frames):
        for t in tracker.update(detections):
            rows.append([f + 1, t.track_id, *t.box, t.score])
    return np.array(rows).reshape(-1, 7)


@pytest.mark.parametrize(
    "make",
    [
        JDETracker,
        lambda: JDETracker(TrackerConfig()),
        lambda: create_tracker("fairmot"),
        lambda: create_tracker(TrackerConfig()),
    ],
    ids=["class", "class-with-config", "by-name", "by-config"],
)
def test_fairmot_tracker_reproduces_the_golden_tracks(make):
    frames, expected = golden_frames()
    rows = track_rows(make(), frames)
    assert rows.shape == expected.shape
    np.testing.assert_array_equal(rows[:, :2], expected[:, :2])
    np.testing.assert_allclose(rows[:, 2:], expected[:, 2:], rtol=0, atol=1e-6)


GOLDEN_DEFAULT = Path(__file__).parent / "data" / "tracking_golden_fairbyte.npz"


def test_the_default_tracker_reproduces_its_recorded_tracks():
    """The default's tracks on the same detections, recorded with its shipped settings: a change
    to its association or to a threshold the scene exercises (high_thres, new_track_thres,
    match_thres, low_iou_thres, ...) shows here; tests/unit/test_tracking_fairbyte.py pins the
    others by behaviour."""
    frames, _ = golden_frames()
    expected = np.load(GOLDEN_DEFAULT)["tracks"]
    rows = track_rows(create_tracker(), frames)
    assert rows.shape == expected.shape
    np.testing.assert_array_equal(rows[:, :2], expected[:, :2])
    np.testing.assert_allclose(rows[:, 2:], expected[:, 2:], rtol=0, atol=1e-6)
