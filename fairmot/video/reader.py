"""Read frames from a video file or a folder of images, with clear errors for bad input.

Both kinds of source look the same to the pipeline: `.fps .width .height .frame_count` and
iteration over BGR uint8 frames. Problems are found as early as possible: `open_video` decodes
the first frame, so an unreadable, empty or zero-frame input fails before any work starts; a
video that stops short of its declared length fails when iteration reaches the end.
"""

from __future__ import annotations

import configparser
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

# Used when neither the container nor a MOT seqinfo.ini states a frame rate (MOT16/17's usual).
DEFAULT_FPS = 30.0
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
# Containers estimate frame counts from duration x fps for some formats (mkv, variable frame
# rate phones): a shortfall this small is rounding, not truncation.
TRUNCATION_SLACK_FRAMES = 2
TRUNCATION_SLACK_FRACTION = 0.01


class VideoError(Exception):
    """A video or image folder that cannot be used: the message says what is wrong."""


class TruncatedVideoError(VideoError):
    """Decoding stopped before the declared end: `frames` frames did decode."""

    def __init__(self, message: str, frames: int) -> None:
        super().__init__(message)
        self.frames = frames


class VideoSource:
    """Frames of one video: iterate for BGR uint8 arrays of shape (height, width, 3)."""

    name: str
    fps: float
    width: int
    height: int
    frame_count: int  # declared (files) or exact (folders); a progress hint, not a promise

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the decoder; iteration reopens it."""

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, {self.width}x{self.height}, "
            f"{self.fps:g} fps, {self.frame_count} frames)"
        )


def open_video(path: str | Path, *, fps: float | None = None) -> VideoSource:
    """Open a video file (anything OpenCV decodes) or a folder of images (sorted by name).

    A MOT Challenge sequence folder (with `img1/`) is read from its `img1/`, at the frame rate
    of its `seqinfo.ini`. `fps` overrides the frame rate for folders of images. Raises
    VideoError when the input is missing, unreadable, truncated or has no frames.
    """
    path = Path(path)
    if path.is_dir():
        return ImageFolderSource(path, fps=fps)
    if not path.exists():
        raise VideoError(f"{path}: no such file or folder")
    return VideoFileSource(path)


def open_clip(
    source: VideoSource | str | Path, start: int = 0, frames: int | None = None
) -> VideoSource:
    """`source` (opened with `open_video` when a path), cut to `frames` frames from index
    `start` when asked."""
    video = source if isinstance(source, VideoSource) else open_video(source)
    return video if start == 0 and frames is None else ClipSource(video, start, frames)


class VideoFileSource(VideoSource):
    """A video file decoded by OpenCV (FFmpeg backend)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.stem
        if path.stat().st_size == 0:
            raise VideoError(f"{path}: the file is empty (0 bytes)")
        capture = self._open()
        ok, first = capture.read()
        if not ok:
            declared = _declared_count(capture)
            capture.release()
            if declared > 0:
                raise VideoError(
                    f"{path}: declares {declared} frames but none could be decoded "
                    "(truncated or corrupt file)"
                )
            raise VideoError(f"{path}: the video has no frames")
        container_fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = container_fps if container_fps > 0 else DEFAULT_FPS
        # The first decoded frame, not the container header, gives the size: OpenCV applies
        # rotation metadata, which swaps width and height for portrait phone videos.
        self.height, self.width = first.shape[:2]
        self.frame_count = max(_declared_count(capture), 1)
        self._capture: cv2.VideoCapture | None = capture
        self._first: np.ndarray | None = first

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise VideoError(f"{self.path}: cannot be read as a video ({_diagnose(self.path)})")
        return capture

    def __iter__(self) -> Iterator[np.ndarray]:
        capture, first = self._capture, self._first
        self._capture = self._first = None
        if capture is None:
            capture = self._open()
            ok, first = capture.read()
            if not ok:
                capture.release()
                raise VideoError(f"{self.path}: no frame could be decoded on reopening")
        count = 0
        try:
            frame = first
            while frame is not None:
                count += 1
                yield frame
                ok, frame = capture.read()
                if not ok:
                    frame = None
        finally:
            capture.release()
        slack = max(TRUNCATION_SLACK_FRAMES, int(self.frame_count * TRUNCATION_SLACK_FRACTION))
        if count < self.frame_count - slack:
            raise TruncatedVideoError(
                f"{self.path}: decoding stopped at frame {count} of {self.frame_count} "
                "(truncated or corrupt file)",
                count,
            )

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = self._first = None


class ImageFolderSource(VideoSource):
    """Images in a folder, in natural name order (000001.jpg, 000002.jpg, ...)."""

    def __init__(self, folder: Path, *, fps: float | None = None) -> None:
        sequence_fps = None
        if (folder / "img1").is_dir():
            sequence_fps = _seqinfo_fps(folder / "seqinfo.ini")
            folder = folder / "img1"
        elif folder.name == "img1":
            sequence_fps = _seqinfo_fps(folder.parent / "seqinfo.ini")
        self.folder = folder
        self.name = folder.parent.name if folder.name == "img1" else folder.name
        self.paths = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=_natural_key,
        )
        if not self.paths:
            suffixes = " ".join(sorted(IMAGE_SUFFIXES))
            raise VideoError(f"{folder}: the folder has no images (looked for {suffixes})")
        first = self._read(self.paths[0])
        self.height, self.width = first.shape[:2]
        self.fps = fps or sequence_fps or DEFAULT_FPS
        self.frame_count = len(self.paths)

    def _read(self, path: Path) -> np.ndarray:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise VideoError(f"{path}: cannot be read as an image")
        return image

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            image = self._read(path)
            if image.shape[:2] != (self.height, self.width):
                raise VideoError(
                    f"{path}: image is {image.shape[1]}x{image.shape[0]}, but the sequence is "
                    f"{self.width}x{self.height} (all images in a folder must be the same size)"
                )
            yield image


class ClipSource(VideoSource):
    """Part of another source: `frames` frames (all the rest when None) from index `start`."""

    def __init__(self, source: VideoSource, start: int = 0, frames: int | None = None) -> None:
        if start < 0:
            raise VideoError(f"start must be 0 or more, got {start}")
        if frames is not None and frames < 1:
            raise VideoError(f"frames must be at least 1, got {frames}")
        self.source, self.start, self.frames = source, start, frames
        self.name, self.fps = source.name, source.fps
        self.width, self.height = source.width, source.height
        rest = max(source.frame_count - start, 0)
        self.frame_count = rest if frames is None else min(frames, rest)

    def __iter__(self) -> Iterator[np.ndarray]:
        stop = None if self.frames is None else self.start + self.frames
        frames = iter(self.source)
        count = 0
        try:
            for count, frame in enumerate(itertools.islice(frames, self.start, stop), 1):  # noqa: B007
                yield frame
        finally:
            close = getattr(frames, "close", None)  # a generator: release its decoder now
            if close is not None:
                close()
        if count == 0:
            raise VideoError(
                f"{self.name}: start frame {self.start} is past the end of the video "
                f"({self.source.frame_count} frames)"
            )

    def close(self) -> None:
        self.source.close()


def _declared_count(capture: cv2.VideoCapture) -> int:
    return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)


def _natural_key(path: Path) -> list[int | str]:
    # "frame10" after "frame9": numbers compare as numbers.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _seqinfo_fps(path: Path) -> float | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
        return parser.getfloat("Sequence", "frameRate", fallback=None)
    except (configparser.Error, ValueError):
        return None


def _diagnose(path: Path) -> str:
    """Why FFmpeg rejects a file, in its own words (OpenCV only says it failed)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "it has no video stream, so no frames"
            if container.streams.video[0].frames == 0:
                return "its video stream has no frames"
            return "its video stream cannot be decoded"
    except av.FFmpegError as error:
        reason = getattr(error, "strerror", None) or str(error)
        if "moov atom not found" in reason.lower():
            return "the mp4 index (moov atom) is missing: the file is truncated or incomplete"
        return f"not a video, or truncated/corrupt: {reason}"
