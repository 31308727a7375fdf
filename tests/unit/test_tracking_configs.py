"""Tracker configs: named YAML files, paths, config objects, and one-line errors naming the key."""

import dataclasses

import pytest
import yaml

from fairmot.tracking import (
    DEFAULT_TRACKER,
    FairByteConfig,
    FairByteTracker,
    JDETracker,
    TrackerConfig,
    TrackerConfigError,
    config_from_mapping,
    config_to_mapping,
    create_tracker,
    load_tracker_config,
    tracker_names,
)
from fairmot.tracking.factory import CONFIG_DIR


@pytest.mark.parametrize(
    ("name", "cls"), [("fairmot", TrackerConfig), ("fairbyte", FairByteConfig)]
)
def test_shipped_yaml_files_spell_out_the_dataclass_defaults(name, cls):
    """The file and the dataclass agree on every setting; their values are pinned by behaviour in
    tests/unit/test_tracking_thresholds.py."""
    on_disk = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    assert on_disk == config_to_mapping(cls())  # every setting spelled out in the file
    assert load_tracker_config(name) == cls()


def test_default_is_fairbyte_and_names_are_the_yaml_files():
    assert DEFAULT_TRACKER == "fairbyte"
    assert tracker_names() == ["fairbyte", "fairmot"]
    tracker = create_tracker()
    assert tracker.config == FairByteConfig()
    assert isinstance(tracker._make(), FairByteTracker)
    assert isinstance(create_tracker("fairmot")._make(), JDETracker)


def test_frame_rate_reaches_the_config_and_scales_the_buffer():
    tracker = create_tracker("fairbyte", frame_rate=10)
    assert tracker.config.frame_rate == 10
    assert tracker.config.max_time_lost == 10


def test_a_yaml_path_and_a_config_object_work_like_names(tmp_path):
    path = tmp_path / "mine.yaml"
    full = config_to_mapping(FairByteConfig())
    path.write_text(
        yaml.safe_dump({**full, "high_thres": 0.5, "track_buffer": 60, "camera_motion": True})
    )
    config = load_tracker_config(path)
    assert config == FairByteConfig(high_thres=0.5, track_buffer=60, camera_motion=True)
    assert load_tracker_config(str(path)) == config
    assert create_tracker(config).config == config
    assert config_from_mapping(config_to_mapping(config)) == config


def test_missing_keys_take_the_defaults(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("tracker_type: fairmot\nconf_thres: 0.5\n")
    assert load_tracker_config(path) == TrackerConfig(conf_thres=0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tracker_type: fairbyte\nhigh_thresh: 0.5\n", "unknown key 'high_thresh'"),
        ("tracker_type: fairbyte\nhigh_thres: high\n", "high_thres must be a number"),
        ("tracker_type: fairbyte\ntrack_buffer: 2.5\n", "track_buffer must be a number (int)"),
        ("tracker_type: fairbyte\nhigh_thres: 1.5\n", "high_thres must be in [0, 1]"),
        ("tracker_type: fairbyte\nmatch_thres: 0\n", "match_thres must be positive"),
        ("tracker_type: fairbyte\nlow_thres: 0.6\nhigh_thres: 0.5\n", "low_thres (0.6)"),
        ("tracker_type: fairbyte\nframe_rate: 25\n", "unknown key 'frame_rate'"),
        ("tracker_type: fairbyte\ncamera_motion: 1\n", "camera_motion must be true or false"),
        (
            "tracker_type: fairmot\ncamera_motion: true\n",
            "camera_motion is not a setting of tracker_type fairmot: only fairbyte has it",
        ),
        ("tracker_type: deepsort\n", "tracker_type must be one of fairmot, fairbyte"),
        ("high_thres: 0.5\n", "tracker_type must be one of"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("tracker_type: [fairbyte\n", "not valid YAML"),
    ],
)
def test_a_bad_config_file_is_a_one_line_error_naming_the_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TrackerConfigError) as error:
        load_tracker_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_an_unknown_name_lists_the_names():
    with pytest.raises(TrackerConfigError, match="unknown tracker 'bytetrack': use a name"):
        create_tracker("bytetrack")


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FairByteConfig().high_thres = 0.9  # type: ignore[misc]
