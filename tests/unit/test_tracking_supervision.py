"""supervision interop: tracks and detections to supervision.Detections and back."""

import numpy as np
import pytest

from fairmot.tracking import Detections, create_tracker
from fairmot.tracking.supervision_interop import from_supervision, to_supervision

sv = pytest.importorskip("supervision")


def detections():
    return Detections(
        np.array([[10, 20, 50, 120], [200, 20, 240, 120]], np.float32),
        np.array([0.9, 0.8], np.float32),
        np.array([[1, 0], [0, 1]], np.float32),
        np.array([0, 1]),
    )


def test_detections_round_trip_through_supervision():
    original = detections()
    converted = to_supervision(original)
    assert isinstance(converted, sv.Detections)
    assert converted.tracker_id is None
    np.testing.assert_array_equal(converted.class_id, [0, 1])
    back = from_supervision(converted)
    for name in ("boxes", "scores", "embeddings", "class_ids"):
        np.testing.assert_array_equal(getattr(back, name), getattr(original, name))


def test_tracks_become_supervision_detections_with_tracker_ids():
    tracker = create_tracker()
    for _ in range(2):
        tracks = tracker.update(detections())
    converted = to_supervision(tracks)
    np.testing.assert_array_equal(converted.tracker_id, [t.track_id for t in tracks])
    np.testing.assert_array_equal(converted.class_id, [0, 1])
    np.testing.assert_allclose(converted.xyxy, [t.box for t in tracks], atol=1e-4)
    np.testing.assert_allclose(converted.confidence, [0.9, 0.8], atol=1e-6)
    # supervision's own tools accept it: a line zone counts the tracks.
    zone = sv.PolygonZone(polygon=np.array([[0, 0], [300, 0], [300, 300], [0, 300]]))
    assert zone.trigger(converted).sum() == 2
    assert len(to_supervision([])) == 0


def test_supervision_detections_without_confidence_or_class_use_defaults():
    plain = sv.Detections(xyxy=np.array([[0, 0, 10, 20]], np.float32))
    converted = from_supervision(plain, embeddings=np.ones((1, 4)))
    assert converted.scores.tolist() == [1.0] and converted.class_ids.tolist() == [0]


def test_missing_embeddings_are_a_clear_error():
    plain = sv.Detections(xyxy=np.array([[0, 0, 10, 20]], np.float32))
    with pytest.raises(ValueError, match="from_supervision needs embeddings"):
        from_supervision(plain)
