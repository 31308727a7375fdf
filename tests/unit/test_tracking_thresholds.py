"""Every shipped tracker setting, pinned by behaviour: for each threshold a small scene whose outcome
flips just across the shipped value (below it one thing happens, above it the other), run with the
named tracker (its YAML file) and with the dataclass default. Changing a value in a YAML file or a
dataclass, or how the tracker compares with it, moves the flip and fails here. The pinned values are
literals on purpose: a probe that read them from the config would move with a mutated default.

Scenes: 40x100 boxes at (x, 100), one object unless said; a person seen `SEEN` frames from frame 1
(confirmed at once) and standing still, so its Kalman prediction is exactly its box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_tracking_camera_motion import by_frame, follow, panned_video
from test_tracking_fairbyte import frame  # (x, score, embedding) objects -> Detections

from fairmot.tracking import Detections, FairByteConfig, TrackerConfig, create_tracker
from fairmot.tracking.kalman import KalmanFilter, KalmanFilterXYWH

SEEN = 3
X = 100.0
A = (1.0, 0.0, 0.0)
B = (0.0, 1.0, 0.0)
# Halfway between A and another look: close enough to A to match it in stage 1.
D = (0.5, 0.0, float(np.sqrt(0.75)))


def run(make: Callable[[], Any], frames: list[Detections]) -> list[int]:
    """The ids reported on the last frame."""
    tracker = make()
    tracks: list[Any] = []
    for f in frames:
        tracks = tracker.update(f)
    return sorted(t.track_id for t in tracks)


def at_cosine(distance: float) -> tuple[float, float, float]:
    """A unit embedding at `distance` (1 - cosine) from A."""
    cos = 1.0 - distance
    return (cos, float(np.sqrt(max(0.0, 1.0 - cos * cos))), 0.0)


def shift_for_iou(iou: float) -> float:
    """Horizontal shift of a 40-wide box giving `iou` with the unshifted one: (40-d)/(40+d)."""
    return 40.0 * (1.0 - iou) / (1.0 + iou)


def shift_for_gate(xywh: bool, hidden: int, distance: float) -> float:
    """Horizontal shift giving squared Mahalanobis `distance` to the prediction of a track seen
    SEEN frames standing still and then hidden `hidden` frames, from the tracker's Kalman filter
    run on the same measurements (both trackers predict every confirmed track once a frame)."""
    kf: KalmanFilter = KalmanFilterXYWH() if xywh else KalmanFilter()
    measurement = np.array([X + 20, 150.0, 40.0 if xywh else 0.4, 100.0])
    mean, covariance = kf.initiate(measurement)
    for _ in range(SEEN - 1):
        mean, covariance = kf.update(*kf.predict(mean, covariance), measurement)
    for _ in range(hidden + 1):
        mean, covariance = kf.predict(mean, covariance)
    one_pixel = kf.gating_distance(
        mean, covariance, (measurement + np.array([1.0, 0, 0, 0]))[None]
    )[0]
    return float(np.sqrt(distance / one_pixel))


def seen(embedding: tuple[float, ...] = A) -> list[Detections]:
    return [frame((X, 0.9, embedding))] * SEEN


# Probes: (value of the scene's knob) -> ids reported on the last frame.
def score_of_a_new_person(make, score):
    return run(make, [frame((X, score, A))])


def score_of_a_second_detection_of_a_new_person(make, score):
    # Frame 1 confirms at once; from frame 2 on a new track needs its start and a second hit.
    return run(make, [frame(), frame((X, score, A)), frame((X, 0.9, A))])


def score_while_tracked(make, score):
    return run(make, [*seen(), frame((X, score, A))])


def score_after_hidden(make, score):
    return run(make, [*seen(), frame(), frame((X, score, A))])


def cosine_to_the_track(make, distance):
    return run(make, [*seen(), frame((X, 0.9, at_cosine(distance)))])


def cosine_at_half_iou(make, distance):
    return run(make, [*seen(), frame((X + shift_for_iou(0.5), 0.9, at_cosine(distance)))])


def cosine_after_hidden(make, distance):
    return run(make, [*seen(), frame(), frame((X, 0.9, at_cosine(distance)))])


def cosine_after_hidden_far_away(make, distance):
    # Hidden 20 frames, back with no overlap at squared Mahalanobis distance 4 (inside the gate).
    dx = shift_for_gate(True, 20, 4.0)
    return run(make, [*seen(), *[frame()] * 20, frame((X + dx, 0.9, at_cosine(distance)))])


def fairmot_cosine_after_hidden_at_gate_9(make, distance):
    # Stage-1 cost 0.98 * cosine + 0.02 * 9 crosses embedding_thres at cosine 0.2245.
    dx = shift_for_gate(False, 1, 9.0)
    return run(make, [*seen(), frame(), frame((X + dx, 0.9, at_cosine(distance)))])


def gate_after_hidden(xywh, hidden):
    def probe(make, distance):
        dx = shift_for_gate(xywh, hidden, distance)
        return run(make, [*seen(), *[frame()] * hidden, frame((X + dx, 0.9, A))])

    return probe


def iou_with_a_low_score_detection(make, iou):
    return run(make, [*seen(), frame((X + shift_for_iou(iou), 0.2, A))])


def iou_with_a_different_looking_detection(make, iou):
    return run(make, [*seen(), frame((X + shift_for_iou(iou), 0.9, B))])


def iou_with_a_one_hit_track(make, iou):
    return run(make, [frame(), frame((X, 0.9, A)), frame((X + shift_for_iou(iou), 0.9, A))])


def iou_of_a_newcomer_with_a_lost_track(make, iou):
    # Someone else starts a track on the lost person's spot: a duplicate (dropped) if too close.
    other = frame((X + shift_for_iou(iou), 0.9, B))
    return run(make, [*seen(), frame(), other, other])


def frames_hidden(make, hidden):
    return run(make, [*seen(), *[frame()] * int(hidden), frame((X, 0.9, A))])


@dataclasses.dataclass(frozen=True)
class Probe:
    setting: str
    value: float
    probe: Callable[[Callable[[], Any], float], list[int]]
    # How far either side of the value the scene goes: small, so that small changes show.
    step: float
    below: list[int]
    above: list[int]


FAIRBYTE = [
    Probe("low_thres", 0.1, score_while_tracked, 0.001, [], [1]),
    Probe("high_thres", 0.35, score_after_hidden, 0.001, [], [1]),
    Probe("new_track_thres", 0.65, score_of_a_new_person, 0.001, [], [1]),
    Probe("match_thres", 0.7 / 0.7, cosine_to_the_track, 0.001, [1], []),
    # 0.7 * cosine + 0.3 * 0.5 <= 0.7 at cosine 0.7857 (with match_thres pinned above).
    Probe("appearance_weight", 0.55 / 0.7, cosine_at_half_iou, 0.001, [1], []),
    Probe("reid_thres", 0.3, cosine_after_hidden_far_away, 0.001, [1], []),
    Probe("gate_thres", 9.4877, gate_after_hidden(True, 20), 0.02, [1], []),
    Probe("low_iou_thres", 0.5, iou_with_a_low_score_detection, 0.001, [], [1]),
    Probe("unconfirmed_iou_thres", 1 - 0.7, iou_with_a_one_hit_track, 0.001, [], [1]),
    Probe("duplicate_iou_thres", 1 - 0.15, iou_of_a_newcomer_with_a_lost_track, 0.001, [2], []),
    Probe("track_buffer", 30.5, frames_hidden, 0.5, [1], []),
]
FAIRMOT = [
    Probe("conf_thres", 0.4, score_of_a_new_person, 0.001, [], [1]),
    Probe("embedding_thres", 0.4 / 0.98, cosine_after_hidden, 0.001, [1], []),
    Probe(
        "embedding_weight",
        (0.4 - 0.02 * 9) / 0.98,
        fairmot_cosine_after_hidden_at_gate_9,
        0.002,
        [1],
        [],
    ),
    Probe("gate_thres", 9.4877, gate_after_hidden(False, 1), 0.02, [1], []),
    Probe("iou_thres", 0.5, iou_with_a_different_looking_detection, 0.001, [], [1]),
    Probe("unconfirmed_iou_thres", 1 - 0.7, iou_with_a_one_hit_track, 0.001, [], [1]),
    Probe("duplicate_iou_thres", 1 - 0.15, iou_of_a_newcomer_with_a_lost_track, 0.001, [2], []),
    Probe("track_buffer", 30.5, frames_hidden, 0.5, [1], []),
]
# Settings pinned by their exact effect rather than a flip (tests below); frame_rate is the
# video's, not the file's.
EXACT = {"ema_alpha", "occlusion_iou", "camera_motion", "frame_rate"}
TRACKERS = {"fairbyte": (FairByteConfig, FAIRBYTE), "fairmot": (TrackerConfig, FAIRMOT)}


def sources(name):
    config_class = TRACKERS[name][0]
    return pytest.mark.parametrize(
        "make",
        [lambda: create_tracker(name), lambda: create_tracker(config_class())],
        ids=["yaml", "dataclass"],
    )


@pytest.mark.parametrize("name", list(TRACKERS))
def test_every_setting_has_a_probe(name):
    config_class, probes = TRACKERS[name]
    fields = {f.name for f in dataclasses.fields(config_class)}
    assert {p.setting for p in probes} | (EXACT & fields) == fields


def _check(probe: Probe, make) -> None:
    below = probe.probe(make, probe.value - probe.step)
    above = probe.probe(make, probe.value + probe.step)
    assert (below, above) == (probe.below, probe.above), probe.setting


@sources("fairbyte")
@pytest.mark.parametrize("probe", FAIRBYTE, ids=[p.setting for p in FAIRBYTE])
def test_fairbyte_outcome_flips_just_across_each_shipped_threshold(probe, make):
    _check(probe, make)


@sources("fairmot")
@pytest.mark.parametrize("probe", FAIRMOT, ids=[p.setting for p in FAIRMOT])
def test_fairmot_outcome_flips_just_across_each_shipped_threshold(probe, make):
    _check(probe, make)


def _embedding_after(make, *frames: Detections) -> np.ndarray:
    tracker = make()
    tracks: list[Any] = []
    for f in frames:
        tracks = tracker.update(f)
    return np.asarray(tracks[0].embedding, np.float64)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@sources("fairmot")
def test_fairmot_embedding_moves_by_one_minus_ema_alpha(make):
    got = _embedding_after(make, frame((X, 0.9, A)), frame((X, 0.9, D)))
    np.testing.assert_allclose(got, _unit(0.9 * np.array(A) + 0.1 * np.array(D)), atol=1e-6)


@sources("fairbyte")
def test_fairbyte_embedding_moves_by_one_minus_ema_alpha_times_the_score(make):
    got = _embedding_after(make, frame((X, 0.8, A)), frame((X, 0.8, D)))
    weight = 0.1 * 0.8
    np.testing.assert_allclose(
        got, _unit((1 - weight) * np.array(A) + weight * np.array(D)), atol=1e-6
    )


@sources("fairbyte")
@pytest.mark.parametrize(("iou", "moves"), [(0.3 - 0.002, True), (0.3 + 0.002, False)])
def test_fairbyte_appearance_is_kept_from_detections_overlapping_more_than_occlusion_iou(
    make, iou, moves
):
    # The person's detection looks like D while someone else overlaps it by `iou`.
    neighbour = (X + shift_for_iou(iou), 0.9, B)
    got = _embedding_after(make, frame((X, 0.9, A)), frame((X, 0.9, D), neighbour))
    assert not np.allclose(got, A, atol=1e-6) if moves else np.allclose(got, A, atol=1e-6)


@sources("fairbyte")
def test_fairbyte_follows_a_panning_camera_only_with_camera_motion_switched_on(make):
    # Every frame goes to the per-frame driver; the shipped default leaves the camera alone.
    scene, images = panned_video(0)
    off = follow(scene, images, make(), by_frame, 0)
    switched_on = dataclasses.replace(make().config, camera_motion=True)
    on = follow(scene, images, create_tracker(switched_on), by_frame, 0)
    # Seed 0 (measured): 26 switches and MOTA 0.72 off; none and 0.99 on.
    assert off["ids"] >= 15 and on["ids"] <= 1
    assert on["mota"] > off["mota"] + 0.2
