"""One entry point for every tracker: `create_tracker(name | YAML path | config)`.

Tracker settings live in YAML files under fairmot/tracking/configs/ (one per named tracker, every
threshold spelled out, as Ultralytics' cfg/trackers/*.yaml): `tracker_type` picks the algorithm,
the other keys are the fields of its config dataclass. A user copies one, edits it and passes its
path. A bad file fails with one line naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fairmot.tracking.config import FairByteConfig, TrackerConfig
from fairmot.tracking.fairbyte import FairByteTracker
from fairmot.tracking.pools import ClassPools, SingleClassTracker
from fairmot.tracking.tracker import JDETracker

CONFIG_DIR = Path(__file__).parent / "configs"
# The tracker `create_tracker()` gives: the one that beats the peers on bench/trackers.py.
DEFAULT_TRACKER = "fairbyte"

AnyTrackerConfig = TrackerConfig | FairByteConfig
TRACKER_TYPES: dict[str, tuple[type[AnyTrackerConfig], Callable[[Any], SingleClassTracker]]] = {
    "fairmot": (TrackerConfig, JDETracker),
    "fairbyte": (FairByteConfig, FairByteTracker),
}
# Keys a config file must not hold: the frame rate is the video's, not the tracker's.
NOT_IN_FILES = ("frame_rate",)


class TrackerConfigError(ValueError):
    """A tracker name, YAML file or mapping that does not make a valid tracker config."""


def tracker_names() -> list[str]:
    """The named trackers: the stems of the YAML files in fairmot/tracking/configs/."""
    return sorted(path.stem for path in CONFIG_DIR.glob("*.yaml"))


def _type_name(config: AnyTrackerConfig) -> str:
    return next(name for name, (cls, _) in TRACKER_TYPES.items() if isinstance(config, cls))


def config_to_mapping(config: AnyTrackerConfig) -> dict[str, Any]:
    """The YAML/JSON form of a config (`tracker_type` plus every setting but the frame rate):
    what a model card carries and what `config_from_mapping` reads back."""
    values = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in NOT_IN_FILES
    }
    return {"tracker_type": _type_name(config), **values}


def config_from_mapping(
    mapping: Mapping[str, Any], source: str = "tracker config"
) -> AnyTrackerConfig:
    """Parse a config mapping; every missing setting takes the dataclass default."""
    if not isinstance(mapping, Mapping):
        raise TrackerConfigError(
            f"{source}: expected a mapping of settings, got {type(mapping).__name__}"
        )
    kind = mapping.get("tracker_type")
    if kind not in TRACKER_TYPES:
        raise TrackerConfigError(
            f"{source}: tracker_type must be one of {', '.join(TRACKER_TYPES)}, got {kind!r}"
        )
    cls = TRACKER_TYPES[kind][0]
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in NOT_IN_FILES}
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "tracker_type":
            continue
        if key not in fields:
            raise TrackerConfigError(f"{source}: {_unknown_key(key, kind, fields)}")
        if fields[key].type in ("bool", bool):
            if not isinstance(value, bool):
                raise TrackerConfigError(f"{source}: {key} must be true or false, got {value!r}")
            values[key] = value
            continue
        wanted = int if fields[key].type in ("int", int) else float
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (wanted is int and isinstance(value, float) and not value.is_integer())
        ):
            raise TrackerConfigError(
                f"{source}: {key} must be a number ({wanted.__name__}), got {value!r}"
            )
        values[key] = wanted(value)
    try:
        return cls(**values)
    except ValueError as error:
        raise TrackerConfigError(f"{source}: {error}") from None


def _unknown_key(key: str, kind: str, fields: Mapping[str, object]) -> str:
    """Why `key` is refused for `kind`: a setting of other trackers only (camera_motion for the
    reference, which has no such step) or no setting at all."""
    others = [
        name
        for name, (cls, _) in TRACKER_TYPES.items()
        if name != kind
        and key not in NOT_IN_FILES
        and key in {f.name for f in dataclasses.fields(cls)}
    ]
    if others:
        return f"{key} is not a setting of tracker_type {kind}: only {', '.join(others)} has it"
    return f"unknown key {key!r} for tracker_type {kind} (known: {', '.join(fields)})"


def load_tracker_config(source: str | Path | AnyTrackerConfig | None = None) -> AnyTrackerConfig:
    """A config from a tracker name, a YAML file path or a config object (None: the default)."""
    if isinstance(source, (TrackerConfig, FairByteConfig)):
        return source
    import yaml

    name = DEFAULT_TRACKER if source is None else str(source)
    path = CONFIG_DIR / f"{name}.yaml" if name in tracker_names() else Path(name)
    if not path.is_file():
        raise TrackerConfigError(
            f"unknown tracker {name!r}: use a name ({', '.join(tracker_names())}) "
            "or the path of a YAML file"
        )
    try:
        mapping = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0]
        raise TrackerConfigError(f"{path}: not valid YAML ({first})") from None
    return config_from_mapping(mapping, str(path))


def create_tracker(
    config: str | Path | AnyTrackerConfig | None = None, *, frame_rate: float = 30
) -> ClassPools:
    """A tracker from a name ("fairbyte", "fairmot"), a YAML path or a config object; None gives
    the default. Its `update(Detections)` returns the confirmed tracks of the frame, with
    `track_id`, `box` (xyxy pixels), `score` and `class_id`; each class has its own track pool."""
    parsed = dataclasses.replace(load_tracker_config(config), frame_rate=frame_rate)
    make = TRACKER_TYPES[_type_name(parsed)][1]
    return ClassPools(lambda: make(parsed), parsed)
