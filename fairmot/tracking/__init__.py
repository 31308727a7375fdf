"""Online multi-object tracking (JDE/FairMOT association). numpy, scipy and lap only: no torch."""

from fairmot.tracking.config import TrackerConfig
from fairmot.tracking.detections import Detections
from fairmot.tracking.kalman import KalmanFilter
from fairmot.tracking.track import Track, TrackState
from fairmot.tracking.tracker import JDETracker

__all__ = ["Detections", "JDETracker", "KalmanFilter", "Track", "TrackState", "TrackerConfig"]
