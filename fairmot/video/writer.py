"""Write BGR frames to an mp4 that browsers play: H.264 in yuv420p via PyAV's bundled libx264.

OpenCV's wheels cannot encode H.264, so it is only the fallback (MPEG-4 Part 2, `mp4v`: plays in
desktop players, not in most browsers) for an environment whose PyAV lacks libx264.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import cv2
import numpy as np

from fairmot.video.reader import VideoError

Codec = Literal["auto", "h264", "mp4v"]
# libx264 speed/size trade-off. On a 2-core CPU at 960x540, "ultrafast" costs ~3 ms of CPU a
# frame against ~6 ms for "veryfast" (files ~3x larger): encoding must stay a small share of
# the network's time for the pipeline to keep up with the model.
X264_PRESET = "ultrafast"
# One encoder thread: libx264's default (1.5x the cores) preempts the network's thread on a
# small CPU; one thread keeps up with the network (bench/pipeline.py: pipeline/model-only 0.87
# -> 0.97-1.03 on 2 cores) and frame threading's lookahead latency goes too.
X264_THREADS = "1"
# Constant quality; 23 is libx264's default, visually clean for annotated footage.
X264_CRF = "23"
# Browsers need 4:2:0 chroma; 4:2:0 needs even width and height.
PIXEL_FORMAT = "yuv420p"


def h264_available() -> bool:
    """Whether PyAV imports and ships the libx264 encoder."""
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


def frame_rate_fraction(fps: float) -> Fraction:
    """The exact rational rate: NTSC's 29.97 is 30000/1001, not 2997/100."""
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc / 1.001) < 1e-3 and abs(fps - ntsc) > 1e-3:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """An mp4 file opened for `fps` frames a second of `width` x `height` BGR frames.

    Odd sizes are padded by one pixel on the right/bottom (4:2:0 needs even sizes); `.width`
    and `.height` give the encoded size. `.codec` is "h264" or "mp4v". `preset` is libx264's
    speed/size trade-off (ultrafast ... veryslow).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: float,
        width: int,
        height: int,
        codec: Codec = "auto",
        preset: str = X264_PRESET,
    ) -> None:
        if fps <= 0 or width <= 0 or height <= 0:
            raise ValueError(f"writer needs positive fps and size, got {fps} fps {width}x{height}")
        if codec == "h264" and not h264_available():
            raise VideoError("H.264 encoding needs PyAV with libx264 (pip install av)")
        self.path = Path(path)
        self.source_size = (width, height)
        self.width, self.height = width + width % 2, height + height % 2
        self.frames = 0
        self._container: Any = None
        self._stream: Any = None
        self._cv_writer: cv2.VideoWriter | None = None
        self.codec = "h264" if codec == "h264" or (codec == "auto" and h264_available()) else "mp4v"
        if self.codec == "h264":
            self._open_pyav(fps, preset)
        else:
            self._open_opencv(fps)

    def _open_pyav(self, fps: float, preset: str) -> None:
        import av

        rate = frame_rate_fraction(fps)
        # +faststart moves the index to the front so a browser can start playing while it loads.
        self._container = av.open(
            str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = PIXEL_FORMAT
        stream.options = {"preset": preset, "crf": X264_CRF, "threads": X264_THREADS}
        self._stream = stream

    def _open_opencv(self, fps: float) -> None:
        self._cv_writer = cv2.VideoWriter(
            str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (self.width, self.height)
        )
        if not self._cv_writer.isOpened():
            raise VideoError(f"{self.path}: OpenCV cannot open an mp4v writer here")

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one BGR uint8 frame of the size given at construction."""
        h, w = frame_bgr.shape[:2]
        if (w, h) != self.source_size:
            raise ValueError(f"frame is {w}x{h}, the writer was opened for {self.source_size}")
        if (w, h) != (self.width, self.height):
            frame_bgr = cv2.copyMakeBorder(
                frame_bgr, 0, self.height - h, 0, self.width - w, cv2.BORDER_REPLICATE
            )
        if self.codec == "h264":
            import av

            # OpenCV's vectorised BGR -> I420 conversion costs a fraction of the generic bgr24
            # path libx264's input would take through swscale (same values to one level).
            i420 = np.asarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(i420, format=PIXEL_FORMAT)
            self._container.mux(self._stream.encode(frame))
        elif self._cv_writer is not None:
            self._cv_writer.write(frame_bgr)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (idempotent)."""
        if self.codec == "h264":
            if self._container is not None:
                self._container.mux(self._stream.encode(None))
                self._container.close()
                self._container = None
        elif self._cv_writer is not None:
            self._cv_writer.release()
            self._cv_writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
