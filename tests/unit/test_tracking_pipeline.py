"""The tracker choice reaches FramePipeline and `fairmot track --tracker`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_tracking_camera_motion import follow, panned_video

from fairmot.cli import main
from fairmot.model import LoadedModel, ModelCard, build_model, save_artifact
from fairmot.pipeline import FramePipeline
from fairmot.tracking import (
    FairByteConfig,
    FairByteTracker,
    JDETracker,
    TrackerConfig,
    TrackerConfigError,
)

W, H = 160, 96


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    card = ModelCard(arch="lite", input_w=W, input_h=H, hyperparameters={"conf_thres": 0.5})
    torch.manual_seed(0)
    return LoadedModel(model=build_model(card).eval(), card=card)


def test_a_card_without_a_recorded_tracker_gets_fairbyte_decoding_down_to_its_low_band(loaded):
    pipeline = FramePipeline(loaded)
    assert pipeline.tracker_config == FairByteConfig()
    assert pipeline.conf_thres == 0.5
    assert pipeline.decode_thres == FairByteConfig().low_thres
    tracker = pipeline.new_tracker(frame_rate=25)
    assert isinstance(tracker._make(), FairByteTracker) and tracker.config.frame_rate == 25


def test_the_pipeline_tracks_with_the_tracker_the_card_was_validated_with(loaded):
    recorded = {"tracker_type": "fairmot", "track_buffer": 45, "conf_thres": 0.3}
    card = loaded.card.model_copy(update={"tracker": recorded})
    pipeline = FramePipeline(LoadedModel(model=loaded.model, card=card))
    # The reference tracker keeps detections above the card's detection threshold.
    assert pipeline.tracker_config == TrackerConfig(conf_thres=0.5, track_buffer=45)
    assert pipeline.decode_thres == 0.5
    assert isinstance(pipeline.new_tracker()._make(), JDETracker)


def test_a_named_tracker_overrides_the_cards(loaded):
    pipeline = FramePipeline(loaded, tracker_config="fairmot")
    assert pipeline.tracker_config == TrackerConfig(conf_thres=0.5)
    assert pipeline.decode_thres == 0.5


def test_a_given_conf_thres_is_the_floor_of_what_fairbyte_sees(loaded):
    pipeline = FramePipeline(loaded, tracker_config="fairbyte", conf_thres=0.3)
    assert pipeline.decode_thres == 0.3
    assert pipeline.tracker_config == FairByteConfig()


def image_folder(tmp_path: Path) -> Path:
    img1 = tmp_path / "SEQ" / "img1"
    img1.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(img1 / f"{i + 1:06d}.jpg"), np.full((H, W, 3), 90, np.uint8))
    return img1.parent


def test_fairmot_track_takes_a_tracker_name_or_yaml(loaded, tmp_path, capsys):
    model = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    folder = image_folder(tmp_path)
    custom = tmp_path / "mine.yaml"
    custom.write_text("tracker_type: fairbyte\nnew_track_thres: 0.8\n")
    for tracker in ("fairbyte", str(custom)):
        out = tmp_path / f"out-{Path(tracker).stem}"
        args = ["track", str(folder), "--model", str(model), "--out", str(out)]
        assert main([*args, "--no-video", "--quiet", "--tracker", tracker]) == 0
        assert (out / "tracks.txt").is_file()
    capsys.readouterr()


def test_fairmot_track_rejects_a_bad_tracker_in_one_line(loaded, tmp_path, capsys):
    model = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tracker_type: fairbyte\nhigh_thresh: 0.5\n")
    out = tmp_path / "out"
    args = ["track", str(image_folder(tmp_path)), "--model", str(model), "--out", str(out)]
    assert main([*args, "--tracker", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fairmot track: ") and "unknown key 'high_thresh'" in err
    assert err.count("\n") == 1


def test_the_container_pipeline_takes_its_tracker_from_fairmot_tracker(
    loaded, tmp_path, monkeypatch
):
    from fairmot.sagemaker.artifact import load_pipeline
    from fairmot.tracking import TrackerConfigError

    save_artifact(loaded.model, loaded.card, tmp_path / "model")
    monkeypatch.setenv("FAIRMOT_DEVICE", "cpu")
    monkeypatch.delenv("FAIRMOT_TRACKER", raising=False)
    # Unset: the card's tracker, here (no tracker recorded) the default fairbyte.
    assert load_pipeline(tmp_path / "model", batch_size=1).tracker_config == FairByteConfig()
    monkeypatch.setenv("FAIRMOT_TRACKER", "fairmot")
    pipeline = load_pipeline(tmp_path / "model", batch_size=1)
    assert pipeline.tracker_config == TrackerConfig(conf_thres=0.5)
    monkeypatch.setenv("FAIRMOT_TRACKER", "nonesuch")
    with pytest.raises(TrackerConfigError, match="unknown tracker 'nonesuch'"):
        load_pipeline(tmp_path / "model", batch_size=1)


def through(pipeline: FramePipeline):
    """The pipeline's per-frame step: the frame letterboxed, then the tracker advanced."""

    def step(tracker, image, detections):
        return pipeline.update(tracker, detections, pipeline.prepare(image))

    return step


def test_camera_motion_in_the_pipeline_follows_a_panning_camera_from_the_frames(loaded):
    scene, images = panned_video(2)
    results = {}
    for on in (False, True):
        pipeline = FramePipeline(loaded, tracker_config=FairByteConfig(camera_motion=on))
        results[on] = follow(scene, images, pipeline.new_tracker(), through(pipeline), 2)
    # Seed 2 (measured), estimated on the 160x90 letterboxed frames: 22 switches off, none on.
    assert results[False]["ids"] >= 10 and results[True]["ids"] <= 1
    assert results[True]["mota"] > results[False]["mota"] + 0.1


def test_camera_motion_needs_the_frame_and_the_reference_tracker_has_none(loaded, tmp_path):
    pipeline = FramePipeline(loaded, tracker_config=FairByteConfig(camera_motion=True))
    (detections,) = pipeline.detect([np.zeros((H, W, 3), np.uint8)])
    with pytest.raises(ValueError, match="camera_motion needs each frame"):
        pipeline.update(pipeline.new_tracker(), detections)
    path = tmp_path / "reference-cmc.yaml"
    path.write_text("tracker_type: fairmot\ncamera_motion: true\n")
    with pytest.raises(TrackerConfigError, match="only fairbyte has it"):
        FramePipeline(loaded, tracker_config=path)
