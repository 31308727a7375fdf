"""One frame's detections: the input of `JDETracker.update`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Detections:
    """Boxes (N,4) xyxy in image pixels, scores (N,), embeddings (N,D) (L2-normalised; the tracker
    normalises again, so raw features are accepted) and optional class ids (N,) (all 0 when left
    out: one class). Arrays are converted to float32 (class ids to int64) and checked."""

    boxes: FloatArray
    scores: FloatArray
    embeddings: FloatArray
    class_ids: IntArray | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32)
        scores = np.asarray(self.scores, dtype=np.float32)
        embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes must have shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        if scores.shape != (n,):
            raise ValueError(f"scores must have shape ({n},) to match boxes, got {scores.shape}")
        if embeddings.ndim != 2 or embeddings.shape[0] != n:
            raise ValueError(
                f"embeddings must have shape ({n}, D) to match boxes, got {embeddings.shape}"
            )
        for name, array in (("boxes", boxes), ("scores", scores), ("embeddings", embeddings)):
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} contain NaN or infinite values")
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            raise ValueError("boxes must be xyxy with x2 >= x1 and y2 >= y1")
        if self.class_ids is None:
            class_ids = np.zeros(n, np.int64)
        else:
            raw = np.asarray(self.class_ids)
            if raw.shape != (n,):
                raise ValueError(
                    f"class_ids must have shape ({n},) to match boxes, got {raw.shape}"
                )
            if raw.size and (not np.all(np.mod(raw, 1) == 0) or raw.min() < 0):
                raise ValueError("class_ids must be non-negative integers")
            class_ids = raw.astype(np.int64)
        object.__setattr__(self, "class_ids", class_ids)
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "embeddings", embeddings)

    @classmethod
    def empty(cls, dim: int = 128) -> Detections:
        """No detections (a frame where the detector found nothing)."""
        return cls(
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            embeddings=np.zeros((0, dim), np.float32),
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        """The detections picked by a boolean mask or an index array."""
        assert self.class_ids is not None  # always set by __post_init__
        return Detections(
            self.boxes[keep], self.scores[keep], self.embeddings[keep], self.class_ids[keep]
        )
