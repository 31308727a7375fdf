"""JDETracker on simulated walkers: ids, occlusions, confirmation, buffers, API."""

import subprocess
import sys

import numpy as np
import pytest

from fairmot.evaluation import evaluate_sequence
from fairmot.evaluation.mot_rules import box_iou_tlwh
from fairmot.tracking import Detections, JDETracker, TrackerConfig
from fairmot.tracking.simulation import DetectorNoise, detect, simulate_walkers


def run_tracker(scene, tracker, *, identity_embeddings=True, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(scene.num_frames):
        for t in tracker.update(
            detect(scene, f, DetectorNoise(), rng, identity_embeddings=identity_embeddings)
        ):
            rows.append([f + 1, t.track_id, *t.tlwh, t.score])
    return np.array(rows).reshape(-1, 7)


def one_box(x, score=0.9, emb=(1.0, 0.0)):
    return Detections(
        np.array([[x, 100, x + 40, 200]], np.float32),
        np.array([score], np.float32),
        np.array([emb], np.float32),
    )


def test_perfect_detections_reproduce_ground_truth_ids_through_crossings_and_occlusions():
    scene = simulate_walkers(8, 120, occlusions={0: (30, 36), 3: (50, 58)}, seed=1)
    overlaps = max(
        (box_iou_tlwh(scene.tlwh[f], scene.tlwh[f]) - np.eye(8)).max() for f in range(120)
    )
    assert overlaps > 0.5  # walkers really do cross
    assert not scene.visible[:, 0].all() and not scene.visible[:, 3].all()
    results = run_tracker(scene, JDETracker())
    metrics = evaluate_sequence(results, scene.gt_rows())
    assert metrics["idf1"] == 1.0
    assert metrics["ids"] == 0
    assert metrics["mota"] == 1.0
    # Ground-truth ids are 1..8 in the order walkers start; so are the tracker's.
    first = results[results[:, 0] == 1]
    assert sorted(first[:, 1].astype(int).tolist()) == list(range(1, 9))


def test_without_embeddings_motion_alone_tracks_separate_walkers():
    scene = simulate_walkers(6, 80, crossing=False, seed=2)
    results = run_tracker(scene, JDETracker(), identity_embeddings=False)
    metrics = evaluate_sequence(results, scene.gt_rows())
    assert metrics["idf1"] == 1.0 and metrics["ids"] == 0


def test_lost_track_keeps_its_id_after_short_occlusion():
    tracker = JDETracker()
    ids = []
    for frame in range(30):
        dets = Detections.empty(2) if 10 <= frame < 15 else one_box(100 + 4 * frame)
        ids.append([t.track_id for t in tracker.update(dets)])
    assert ids[9] == [1]
    assert ids[10:15] == [[]] * 5  # lost tracks are not reported
    assert ids[15:] == [[1]] * 15


def test_track_lost_longer_than_the_buffer_gets_a_new_id():
    # 10 fps and a 30-frame buffer at 30 fps: kept for int(10/30*30) = 10 frames.
    config = TrackerConfig(frame_rate=10)
    assert config.max_time_lost == 10
    tracker = JDETracker(config)
    last = []
    for frame in range(25):
        dets = Detections.empty(2) if 3 <= frame < 15 else one_box(100.0)
        last = [t.track_id for t in tracker.update(dets)]
    assert last == [2]


def test_ids_start_at_one_for_every_tracker_and_after_reset():
    for _ in range(2):
        tracker = JDETracker()
        out = tracker.update(one_box(100.0))
        assert [t.track_id for t in out] == [1]
    tracker.update(one_box(600.0))
    tracker.reset()
    assert [t.track_id for t in tracker.update(one_box(300.0))] == [1]


def test_new_track_after_first_frame_is_reported_from_its_second_hit():
    tracker = JDETracker()
    tracker.update(one_box(100.0))
    two = Detections(
        np.array([[100, 100, 140, 200], [500, 100, 540, 200]], np.float32),
        np.array([0.9, 0.9], np.float32),
        np.array([[1, 0], [0, 1]], np.float32),
    )
    assert [t.track_id for t in tracker.update(two)] == [1]
    assert sorted(t.track_id for t in tracker.update(two)) == [1, 2]


def test_single_frame_false_positive_is_never_reported():
    tracker = JDETracker()
    tracker.update(one_box(100.0))
    fp = Detections(
        np.array([[100, 100, 140, 200], [800, 100, 840, 200]], np.float32),
        np.array([0.9, 0.9], np.float32),
        np.array([[1, 0], [0, 1]], np.float32),
    )
    assert [t.track_id for t in tracker.update(fp)] == [1]
    assert [t.track_id for t in tracker.update(one_box(100.0))] == [1]
    assert [t.track_id for t in tracker.update(one_box(100.0))] == [1]


def test_detections_below_confidence_are_ignored():
    tracker = JDETracker(TrackerConfig(conf_thres=0.5))
    assert tracker.update(one_box(100.0, score=0.45)) == []
    assert tracker.update(one_box(100.0, score=0.55)) == []  # a new track: first hit
    out = tracker.update(one_box(100.0, score=0.55))
    assert [t.track_id for t in out] == [1]  # the ignored detection used no id


def test_track_exposes_xyxy_box_tlwh_and_score():
    tracker = JDETracker()
    (track,) = tracker.update(one_box(100.0, score=0.8))
    np.testing.assert_allclose(track.box, [100, 100, 140, 200])
    np.testing.assert_allclose(track.tlwh, [100, 100, 40, 100])
    assert track.score == pytest.approx(0.8)


def test_detections_validate_shapes():
    with pytest.raises(ValueError, match="boxes"):
        Detections(np.zeros((2, 3)), np.zeros(2), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="scores"):
        Detections(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="embeddings"):
        Detections(np.zeros((2, 4)), np.zeros(2), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN"):
        Detections(np.full((1, 4), np.nan), np.zeros(1), np.zeros((1, 4)))
    empty = Detections.empty(64)
    assert len(empty) == 0 and empty.embeddings.shape == (0, 64)
    assert JDETracker().update(empty) == []


def test_config_rejects_invalid_values():
    with pytest.raises(ValueError, match="frame_rate"):
        TrackerConfig(frame_rate=0)
    with pytest.raises(ValueError, match="conf_thres"):
        TrackerConfig(conf_thres=1.5)


def test_importing_tracking_does_not_import_torch():
    code = "import sys, fairmot.tracking; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_new_track_on_top_of_an_older_lost_track_is_dropped_as_duplicate():
    tracker = JDETracker()
    for _ in range(10):
        tracker.update(one_box(100.0, emb=(1.0, 0.0)))
    tracker.update(Detections.empty(2))
    # Something that looks different appears on the lost track's spot: the new track it starts
    # duplicates the older lost one (IoU distance < 0.15) and is dropped; the lost one survives.
    for _ in range(3):
        assert tracker.update(one_box(100.0, emb=(0.0, 1.0))) == []
        assert [t.track_id for t in tracker.lost] == [1]
    assert [t.track_id for t in tracker.update(one_box(100.0, emb=(1.0, 0.0)))] == [1]
