"""Multi-class tracking: one track pool per class, one id counter for all of them.

Detections of class c only ever meet tracks of class c, so an id never moves between classes, and
ids stay unique across classes (as MOT results and the endpoint answer need).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from fairmot.tracking.camera_motion import CameraMotion
from fairmot.tracking.detections import Detections
from fairmot.tracking.track import Track


class SingleClassTracker(Protocol):
    """What a per-class tracker provides: `update` per frame, `reset`, and its id counter."""

    frame_id: int
    _next_id: int

    def update(self, detections: Detections) -> list[Track]: ...

    def reset(self) -> None: ...


class ClassPools:
    """A tracker per class id, made on the class's first detection by `make`."""

    def __init__(self, make: Callable[[], SingleClassTracker], config: Any) -> None:
        self._make = make
        # The settings every pool runs with (a TrackerConfig or FairByteConfig).
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget all tracks of all classes and restart ids at 1."""
        self.pools: dict[int, SingleClassTracker] = {}
        self.frame_id = 0
        self._next_id = 1
        # The stream's previous frame, when the config compensates camera motion.
        self.camera = CameraMotion() if getattr(self.config, "camera_motion", False) else None

    def follow_camera(self, image: np.ndarray, scale: float = 1.0) -> None:
        """With `camera_motion` on, move the tracks by the camera's motion from the previous
        frame to this one (`image`: the frame, or a copy resized by `scale`); call with each
        frame before its `update`. Without the option: nothing."""
        if self.camera is not None:
            self.compensate(self.camera.step(image, scale))

    def compensate(self, warp: Any) -> None:
        """Move every class's tracks by the camera's motion since the last frame (see
        fairmot.tracking.camera_motion); only trackers with a `compensate` of their own (fairbyte)
        support it: the `fairmot` reference has none."""
        for pool in self.pools.values():
            move = getattr(pool, "compensate", None)
            if move is None:
                raise TypeError(
                    f"{type(pool).__name__} has no camera-motion compensation: use fairbyte"
                )
            move(warp)

    def update(self, detections: Detections) -> list[Track]:
        """Associate one frame's detections class by class; every pool sees every frame (an
        empty one when its class is absent) so its lost tracks age."""
        self.frame_id += 1
        assert detections.class_ids is not None  # always set by Detections
        for class_id in np.unique(detections.class_ids).tolist():
            if class_id not in self.pools:
                pool = self._make()
                # Catch up on the frames this class was absent, so frame 1 semantics hold.
                pool.frame_id = self.frame_id - 1
                self.pools[class_id] = pool
        single = len(self.pools) == 1
        out: list[Track] = []
        for class_id, pool in sorted(self.pools.items()):
            # Ids come from the shared counter: the pool's own counter is set before and read back.
            pool._next_id = self._next_id
            # One class (the usual case): its pool gets the detections as they are.
            mine = detections if single else detections.select(detections.class_ids == class_id)
            tracks = pool.update(mine)
            self._next_id = pool._next_id
            for track in tracks:
                track.class_id = class_id
            out += tracks
        return out
