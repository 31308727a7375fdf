"""The crowd simulation behind bench/trackers.py is as hard as the scenes the issue describes."""

import numpy as np

from fairmot.tracking.simulation import CrowdDetectorNoise, detect_crowd, simulate_crowd


def test_crowd_scene_has_occlusion_drift_and_a_visibility_column():
    scene = simulate_crowd(num_people=30, num_frames=60, seed=3)
    assert scene.tlwh.shape == (60, 30, 4)
    visible = scene.visibility[scene.visible]
    assert (visible < 0.5).mean() > 0.05  # a real share of people are half hidden or more
    assert (scene.visibility[scene.visible] >= 0.1).all()
    rows = scene.gt_rows()
    np.testing.assert_allclose(rows[:, 8], visible)
    # Identities drift: a person's appearance at the end differs from the start.
    present = scene.visible[0] & scene.visible[-1]
    similarity = np.einsum("kd,kd->k", scene.appearance[0, present], scene.appearance[-1, present])
    assert similarity.max() < 0.99
    # Static ghosts for false positives that repeat.
    assert scene.ghosts.shape == (3, 4)


def test_crowd_detector_scores_occluded_people_low_and_false_positives_mid():
    scene = simulate_crowd(num_people=30, num_frames=40, seed=4)
    rng = np.random.default_rng(0)
    noise = CrowdDetectorNoise(false_positives=0.0, ghost_rate=0.0)
    scores = np.concatenate([detect_crowd(scene, f, noise, rng).scores for f in range(40)])
    assert ((scores >= 0.1) & (scores < 0.35)).mean() > 0.02  # BYTE's low band is populated
    assert (scores > 0.6).mean() > 0.5
    fp_only = simulate_crowd(num_people=1, num_frames=5, seed=5)
    fp_noise = CrowdDetectorNoise(false_positives=20.0, ghost_rate=1.0, max_recall=0.0)
    fps = np.concatenate([detect_crowd(fp_only, f, fp_noise, rng).scores for f in range(5)])
    assert len(fps) > 50 and fps.min() >= 0.3 and fps.max() < 0.65
