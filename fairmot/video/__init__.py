"""Video input and output: read videos and image folders, draw tracks, write browser mp4s."""

from fairmot.video.draw import Annotator, TrackBox, colour_for_id
from fairmot.video.outputs import (
    AtomicOutputs,
    MotRow,
    StageTimings,
    VideoSummary,
    write_results,
)
from fairmot.video.reader import (
    ClipSource,
    TruncatedVideoError,
    VideoError,
    VideoSource,
    open_clip,
    open_video,
)
from fairmot.video.writer import VideoWriter, h264_available

__all__ = [
    "Annotator",
    "AtomicOutputs",
    "ClipSource",
    "MotRow",
    "StageTimings",
    "TrackBox",
    "TruncatedVideoError",
    "VideoError",
    "VideoSource",
    "VideoSummary",
    "VideoWriter",
    "colour_for_id",
    "h264_available",
    "open_clip",
    "open_video",
    "write_results",
]
