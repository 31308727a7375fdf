"""Online multi-object tracking (FairMOT association and the default, FairByte). numpy, scipy,
lap and PyYAML only: no torch."""

from fairmot.tracking.config import FairByteConfig, TrackerConfig
from fairmot.tracking.detections import Detections
from fairmot.tracking.factory import (
    DEFAULT_TRACKER,
    TrackerConfigError,
    config_from_mapping,
    config_to_mapping,
    create_tracker,
    load_tracker_config,
    tracker_names,
)
from fairmot.tracking.fairbyte import FairByteTracker
from fairmot.tracking.kalman import KalmanFilter
from fairmot.tracking.pools import ClassPools
from fairmot.tracking.track import Track, TrackState
from fairmot.tracking.tracker import JDETracker

__all__ = [
    "DEFAULT_TRACKER",
    "ClassPools",
    "Detections",
    "FairByteConfig",
    "FairByteTracker",
    "JDETracker",
    "KalmanFilter",
    "Track",
    "TrackState",
    "TrackerConfig",
    "TrackerConfigError",
    "config_from_mapping",
    "config_to_mapping",
    "create_tracker",
    "load_tracker_config",
    "tracker_names",
]
