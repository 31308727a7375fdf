"""The default tracker (fairbyte): each threshold's behaviour, per-class pools, and the crowd
simulation on which it must beat the reference association."""

import dataclasses

import numpy as np
import pytest

from fairmot.evaluation import evaluate_sequence
from fairmot.tracking import Detections, FairByteConfig, create_tracker
from fairmot.tracking.simulation import CrowdDetectorNoise, detect_crowd, simulate_crowd

DEFAULT = FairByteConfig()
A = (1.0, 0.0, 0.0)
B = (0.0, 1.0, 0.0)


def frame(*objects, classes=None):
    """Detections of (x, score, embedding) objects: 40x100 boxes at (x, 100)."""
    if not objects:
        return Detections.empty(3)
    return Detections(
        np.array([[x, 100, x + 40, 200] for x, _, _ in objects], np.float32),
        np.array([s for _, s, _ in objects], np.float32),
        np.array([e for _, _, e in objects], np.float32),
        None if classes is None else np.array(classes),
    )


def ids(tracker, frames):
    return [sorted(t.track_id for t in tracker.update(f)) for f in frames]


def test_low_score_detections_keep_a_track_alive_through_an_occlusion():
    # Scores dip into the low band [low_thres, high_thres) for 5 frames: BYTE's second stage.
    score_in_band = (DEFAULT.low_thres + DEFAULT.high_thres) / 2
    frames = [frame((100 + 3 * f, 0.9 if not 5 <= f < 10 else score_in_band, A)) for f in range(15)]
    assert ids(create_tracker(), frames) == [[1]] * 15
    # Without the low band (it starts at high_thres) the track is not reported meanwhile.
    no_band = dataclasses.replace(DEFAULT, low_thres=DEFAULT.high_thres)
    out = ids(create_tracker(no_band), frames)
    assert out[5:10] == [[]] * 5 and out[10:] == [[1]] * 5


def test_below_low_thres_detections_are_ignored():
    frames = [frame((100 + 3 * f, 0.9 if f < 3 else DEFAULT.low_thres - 0.01, A)) for f in range(6)]
    assert ids(create_tracker(), frames) == [[1]] * 3 + [[]] * 3


def test_only_detections_at_new_track_thres_start_tracks():
    just_below = DEFAULT.new_track_thres - 0.02
    assert just_below >= DEFAULT.high_thres  # matched in stage 1, but may not start a track
    frames = [frame((100 + 3 * f, just_below, A)) for f in range(5)]
    assert ids(create_tracker(), frames) == [[]] * 5
    frames = [frame((100 + 3 * f, DEFAULT.new_track_thres, A)) for f in range(5)]
    assert ids(create_tracker(), frames) == [[1]] * 5
    # Once started, a track goes on with detections between high_thres and new_track_thres.
    frames = [frame((100 + 3 * f, 0.9 if f == 0 else just_below, A)) for f in range(5)]
    assert ids(create_tracker(), frames) == [[1]] * 5


def test_one_hit_tracks_are_confirmed_on_their_second_hit():
    frames = [frame()] + [frame((100 + 3 * f, 0.9, A)) for f in range(3)]
    assert ids(create_tracker(), frames) == [[], [], [1], [1]]


def test_a_lost_track_is_reidentified_by_appearance_after_moving_unseen():
    # Hidden for 10 frames while it walks on: no IoU with its last box when it reappears.
    seen = [frame((100 + 8 * f, 0.9, A)) for f in range(10)]
    hidden = [frame()] * 10
    back = [frame((260 + 8 * f, 0.9, A)) for f in range(3)]
    assert ids(create_tracker(), seen + hidden + back)[-1] == [1]
    # Someone who looks different (cosine distance above reid_thres) at that spot is new.
    other = [frame((260 + 8 * f, 0.9, B)) for f in range(3)]
    assert ids(create_tracker(), seen + hidden + other)[-1] == [2]
    # The same person far outside the Mahalanobis gate is new too.
    far = [frame((1500 + 8 * f, 0.9, A)) for f in range(3)]
    assert ids(create_tracker(), seen + hidden + far)[-1] == [2]


def test_a_track_lost_longer_than_the_buffer_gets_a_new_id():
    config = dataclasses.replace(DEFAULT, frame_rate=10)  # kept 10 frames
    frames = [frame((100, 0.9, A))] * 3 + [frame()] * 12 + [frame((100, 0.9, A))] * 3
    assert ids(create_tracker(config, frame_rate=10), frames)[-1] == [2]
    frames = [frame((100, 0.9, A))] * 3 + [frame()] * 9 + [frame((100, 0.9, A))] * 3
    assert ids(create_tracker(config, frame_rate=10), frames)[-1] == [1]


def test_appearance_decides_between_two_equally_close_people():
    # Two people side by side swap places in one frame (equal IoU either way): appearance says
    # who is who. Motion alone (appearance_weight 0) keeps the nearer box instead.
    start = [frame((100, 0.9, A), (130, 0.9, B))] * 3
    swapped = [frame((100, 0.9, B), (130, 0.9, A))]
    tracker = create_tracker()
    for f in start:
        tracker.update(f)
    left_to_right = [t.track_id for t in sorted(tracker.update(swapped[0]), key=lambda t: t.box[0])]
    assert left_to_right == [2, 1]
    tracker = create_tracker(dataclasses.replace(DEFAULT, appearance_weight=0.0))
    for f in start:
        tracker.update(f)
    left_to_right = [t.track_id for t in sorted(tracker.update(swapped[0]), key=lambda t: t.box[0])]
    assert left_to_right == [1, 2]


def test_occluded_detections_do_not_change_the_track_appearance():
    tracker = create_tracker()
    tracker.update(frame((100, 0.9, A)))
    tracker.update(frame((100, 0.9, A)))
    pool = tracker.pools[0]
    before = pool.embeddings[0].copy()
    # A second person overlapping (IoU > occlusion_iou) blends into the first one's embedding.
    mixed = tuple(np.array(A) * 0.6 + np.array(B) * 0.4)
    tracker.update(frame((100, 0.9, mixed), (110, 0.9, B)))
    np.testing.assert_array_equal(pool.embeddings[0], before)
    # Unoccluded, a confident detection moves the embedding by (1 - ema_alpha) * score.
    tracker.update(frame((100, 0.9, mixed)))
    moved = before * (1 - 0.1 * 0.9) + np.array(mixed) / np.linalg.norm(mixed) * 0.1 * 0.9
    np.testing.assert_allclose(pool.embeddings[0], moved / np.linalg.norm(moved), atol=1e-6)


def test_each_class_has_its_own_pool_and_ids_never_change_class():
    # A person (class 0) and a cart (class 1) at the same place: never associated across classes.
    frames = [frame((100 + 3 * f, 0.9, A), (100 + 3 * f, 0.9, A), classes=[0, 1]) for f in range(4)]
    tracker = create_tracker()
    for f in frames:
        tracks = tracker.update(f)
        assert sorted((t.class_id, t.track_id) for t in tracks) == [(0, 1), (1, 2)]
    # The cart leaves; a person appears where it was: a new id of class 0, not the cart's id.
    for f in range(3):
        tracks = tracker.update(frame((112 + 3 * f, 0.9, A), (500, 0.9, A), classes=[0, 0]))
    assert sorted((t.class_id, t.track_id) for t in tracks) == [(0, 1), (0, 3)]


def test_a_class_first_seen_later_starts_unconfirmed():
    tracker = create_tracker()
    tracker.update(frame((100, 0.9, A), classes=[0]))
    tracks = tracker.update(frame((103, 0.9, A), (400, 0.9, B), classes=[0, 1]))
    assert [(t.class_id, t.track_id) for t in tracks] == [(0, 1)]
    tracks = tracker.update(frame((106, 0.9, A), (403, 0.9, B), classes=[0, 1]))
    assert sorted((t.class_id, t.track_id) for t in tracks) == [(0, 1), (1, 2)]


def test_reset_restarts_ids():
    tracker = create_tracker()
    ids(tracker, [frame((100, 0.9, A))] * 2)
    tracker.reset()
    assert ids(tracker, [frame((300, 0.9, B))]) == [[1]]


def test_class_ids_are_checked():
    with pytest.raises(ValueError, match="class_ids must have shape"):
        Detections(np.zeros((1, 4)), np.ones(1), np.ones((1, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match="non-negative integers"):
        Detections(np.zeros((1, 4)), np.ones(1), np.ones((1, 3)), np.array([-1]))


def crowd_metrics(name, seed):
    scene = simulate_crowd(num_people=20, num_frames=120, seed=seed)
    rng = np.random.default_rng(seed + 1)
    tracker = create_tracker(name)
    rows = []
    for f in range(scene.num_frames):
        for t in tracker.update(detect_crowd(scene, f, CrowdDetectorNoise(), rng)):
            rows.append([f + 1, t.track_id, *t.tlwh, t.score])
    return evaluate_sequence(np.array(rows).reshape(-1, 7), scene.gt_rows())


@pytest.mark.slow
def test_fairbyte_beats_the_reference_association_in_a_simulated_crowd():
    ours, reference = crowd_metrics("fairbyte", 5), crowd_metrics("fairmot", 5)
    assert ours["mota"] > reference["mota"] + 0.03
    assert ours["idf1"] > reference["idf1"] + 0.03
    assert ours["ids"] < reference["ids"] / 2
