"""Camera-motion compensation: the global motion between two frames, for a moving camera.

A panning or shaking camera moves every box at once; a constant-velocity Kalman filter sees that
as every person jumping, and IoU matching fails. As in BoT-SORT's GMC, the frame-to-frame motion is
estimated from the background (sparse optical flow: Shi-Tomasi corners followed by pyramidal
Lucas-Kanade, then a RANSAC similarity transform, so moving people are outliers) and applied to
the tracks' Kalman states before they are matched (`FairByteTracker.compensate`).

Usage, per frame: `tracker.compensate(estimate_camera_motion(previous_gray, gray))` then
`tracker.update(detections)`; `CameraMotion` keeps the previous frame for a stream (what a tracker
made with `camera_motion: true` does). OpenCV is imported here only, when an estimate is asked for.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Warp = npt.NDArray[np.float64]  # (2, 3) affine: [x', y'] = A @ [x, y] + t

# Corners to follow: enough that people covering part of the frame stay a minority.
MAX_CORNERS = 200
# Fewer points than this and the estimate is noise: no motion is assumed.
MIN_POINTS = 10
# Lucas-Kanade window and pyramid levels: a 15 px window over 3 levels follows a shift of about
# 30 px at the working width (90 px on a 960 px frame) at half the cost of OpenCV's 21 px and 4.
LK_WINDOW = (15, 15)
LK_LEVELS = 2
# RANSAC inlier distance in pixels of the frames given.
RANSAC_PIXELS = 3.0
# `CameraMotion` estimates on grey copies at most this wide: the background's motion needs no
# detail, and corners and flow cost in proportion to the pixels (bench/tracker.py).
MOTION_WIDTH = 320


def identity() -> Warp:
    """No camera motion."""
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def estimate_camera_motion(previous: np.ndarray, current: np.ndarray) -> Warp:
    """The similarity transform (rotation, uniform scale, translation) taking pixel positions of
    `previous` to `current` (grey or BGR uint8 images of one size); identity when the frames
    hold too little texture to tell."""
    import cv2

    if previous.shape[:2] != current.shape[:2]:
        raise ValueError(
            f"frames differ in size: {previous.shape[1]}x{previous.shape[0]} and "
            f"{current.shape[1]}x{current.shape[0]}"
        )
    grey = [
        cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        for image in (previous, current)
    ]
    corners = cv2.goodFeaturesToTrack(
        grey[0], maxCorners=MAX_CORNERS, qualityLevel=0.01, minDistance=8, blockSize=3
    )
    if corners is None or len(corners) < MIN_POINTS:
        return identity()
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        grey[0], grey[1], corners, None, winSize=LK_WINDOW, maxLevel=LK_LEVELS
    )  # type: ignore[call-overload, unused-ignore]  # stubs differ by version
    found = status.ravel() == 1
    if found.sum() < MIN_POINTS:
        return identity()
    warp, _ = cv2.estimateAffinePartial2D(
        corners[found], moved[found], method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS
    )
    return identity() if warp is None else np.asarray(warp, np.float64)


class CameraMotion:
    """One stream's camera: each frame's motion since the one before, estimated on small grey
    copies (at most MOTION_WIDTH wide) and given in the stream's frame pixels."""

    def __init__(self) -> None:
        self.previous: np.ndarray | None = None

    def step(self, image: np.ndarray, scale: float = 1.0) -> Warp:
        """The warp from the previous frame to this one (identity on the first). `image` is the
        frame (BGR or grey uint8) or a copy of it resized by `scale` (a letterboxed frame's
        content), so its pixel = frame pixel * scale."""
        import cv2

        shrink = min(1.0, MOTION_WIDTH / image.shape[1])
        if shrink < 1.0:
            size = (max(1, round(image.shape[1] * shrink)), max(1, round(image.shape[0] * shrink)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        previous, self.previous = self.previous, grey
        if previous is None or previous.shape != grey.shape:
            return identity()
        warp = estimate_camera_motion(previous, grey)
        # A uniform scale commutes with the rotation part: only the shift changes units.
        warp[:, 2] /= scale * shrink
        return warp


def warp_means(warp: Warp, means: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(N,8) xywh Kalman means moved by `warp`: centres mapped, velocities rotated and scaled,
    sizes and their velocities scaled."""
    linear, shift = warp[:, :2], warp[:, 2]
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    out = means.copy()
    out[:, 0:2] = means[:, 0:2] @ linear.T + shift
    out[:, 4:6] = means[:, 4:6] @ linear.T
    out[:, 2:4] *= scale
    out[:, 6:8] *= scale
    return out


def warp_blocks(warp: Warp, blocks: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(N,12) covariance blocks (kalman.to_blocks) under `warp`: every variance scales with the
    square of the transform's scale. The blocks hold no x-y covariance, so a rotation's mixing of
    the two is dropped: frame-to-frame rotations of a camera are a small fraction of a degree."""
    scale2 = abs(float(np.linalg.det(warp[:, :2])))
    return blocks * scale2
