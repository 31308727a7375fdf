"""Conversion to and from `supervision.Detections`, so tracks can use supervision's annotators,
zones and line counters, and supervision-shaped detections can feed our trackers.

supervision is an optional dependency (`pip install fairmot[supervision]`): it is imported inside
the functions, and the rest of fairmot.tracking never needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fairmot.tracking.detections import Detections
from fairmot.tracking.track import Track

if TYPE_CHECKING:
    import supervision as sv

# Key of the per-detection embeddings in `supervision.Detections.data`.
EMBEDDING_KEY = "embedding"


def _supervision() -> Any:
    try:
        import supervision
    except ImportError:
        raise ImportError(
            "supervision is not installed: pip install 'fairmot[supervision]'"
        ) from None
    return supervision


def to_supervision(items: Sequence[Track] | Detections) -> sv.Detections:
    """Tracks (a tracker's answer: with tracker_id) or Detections (without) as a
    `supervision.Detections` with xyxy, confidence and class_id; embeddings of Detections travel
    in `data["embedding"]`."""
    sv = _supervision()
    if isinstance(items, Detections):
        assert items.class_ids is not None  # always set by Detections
        return sv.Detections(
            xyxy=items.boxes.astype(np.float32),
            confidence=items.scores.astype(np.float32),
            class_id=items.class_ids.astype(int),
            data={EMBEDDING_KEY: items.embeddings},
        )
    tracks = list(items)
    if not tracks:
        return sv.Detections.empty()
    return sv.Detections(
        xyxy=np.stack([t.box for t in tracks]).astype(np.float32),
        confidence=np.array([t.score for t in tracks], np.float32),
        class_id=np.array([t.class_id for t in tracks], int),
        tracker_id=np.array([t.track_id for t in tracks], int),
    )


def from_supervision(detections: sv.Detections, embeddings: np.ndarray | None = None) -> Detections:
    """A `supervision.Detections` as tracker input. Embeddings come from `embeddings` (N,D) or
    from `data["embedding"]`; a missing confidence counts as 1, a missing class_id as 0."""
    n = len(detections)
    stored = detections.data.get(EMBEDDING_KEY) if detections.data else None
    if embeddings is None and stored is not None:
        embeddings = np.asarray(stored)
    if embeddings is None:
        raise ValueError(
            "from_supervision needs embeddings: pass embeddings=(N, D) or put them in "
            f"detections.data[{EMBEDDING_KEY!r}]"
        )
    confidence = detections.confidence
    class_id = detections.class_id
    return Detections(
        boxes=np.asarray(detections.xyxy, np.float32).reshape(n, 4),
        scores=np.ones(n, np.float32) if confidence is None else confidence,
        embeddings=np.asarray(embeddings, np.float32).reshape(n, -1),
        class_ids=None if class_id is None else np.asarray(class_id, np.int64),
    )
