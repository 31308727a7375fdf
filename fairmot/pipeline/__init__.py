"""Detection and tracking over frames: one object for whole videos, streams and the CLI."""

from fairmot.pipeline.frames import (
    MAX_ASPECT_RATIO,
    MIN_BOX_AREA,
    FramePipeline,
    OutputFilter,
    PreparedFrame,
)

__all__ = ["MAX_ASPECT_RATIO", "MIN_BOX_AREA", "FramePipeline", "OutputFilter", "PreparedFrame"]
