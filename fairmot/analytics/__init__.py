"""What the tracks say: line counts, zone occupancy, distance and speed, against a scene file."""

from fairmot.analytics.analyser import (
    FrameAnalytics,
    SceneAnalytics,
    analyse_rows,
    foot_point,
    totals,
)
from fairmot.analytics.outputs import (
    ANALYTICS_FILES,
    ANALYTICS_JSON,
    write_analytics,
)
from fairmot.analytics.scene import (
    Calibration,
    Line,
    Scene,
    SceneError,
    Zone,
    load_scene,
    parse_scene,
)

__all__ = [
    "ANALYTICS_FILES",
    "ANALYTICS_JSON",
    "Calibration",
    "FrameAnalytics",
    "Line",
    "Scene",
    "SceneAnalytics",
    "SceneError",
    "Zone",
    "analyse_rows",
    "foot_point",
    "load_scene",
    "parse_scene",
    "totals",
    "write_analytics",
]
