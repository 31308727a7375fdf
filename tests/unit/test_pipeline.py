"""FramePipeline and `fairmot track` on real video files with a small random-init lite model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from fairmot.cli import main
from fairmot.evaluation import read_mot_results
from fairmot.model import LoadedModel, ModelCard, build_model, save_artifact
from fairmot.pipeline import FramePipeline, OutputFilter
from fairmot.tracking import FairByteConfig
from fairmot.tracking.track import reports
from fairmot.video import VideoError, open_video
from fairmot.video.outputs import OUTPUT_NAMES

W, H, FPS, FRAMES = 160, 96, 25, 24
# Random weights give a near-constant heatmap; amplifying its last layer turns the random
# features into a few dozen sharp peaks a frame above CONF, so the tracker has work.
HM_GAIN, CONF = 300.0, 0.8
# A random-init wh head predicts sides of either sign; fixed ltrb (stride units) gives
# 24x48 px upright boxes that pass the output filter.
LTRB = (3.0, 6.0, 3.0, 6.0)


def write_clip(path: Path, frames: int = FRAMES, size: tuple[int, int] = (W, H)) -> Path:
    w, h = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            frame = np.full((h, w, 3), 60, np.uint8)
            cv2.rectangle(frame, (10 + 4 * i, 20), (34 + 4 * i, 80), (0, 180, 250), -1)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    card = ModelCard(arch="lite", input_w=W, input_h=H, hyperparameters={"conf_thres": CONF})
    torch.manual_seed(0)
    model = build_model(card).eval()
    with torch.no_grad():
        model.hm[-1].weight.mul_(HM_GAIN)
        model.wh[-1].weight.zero_()
        model.wh[-1].bias.copy_(torch.tensor(LTRB))
    return LoadedModel(model=model, card=card)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "walk.mp4")


def test_batched_detection_equals_frame_by_frame_and_maps_to_each_frames_pixels(
    loaded: LoadedModel,
) -> None:
    pipeline = FramePipeline(loaded, batch_size=3)
    assert pipeline.conf_thres == CONF, "the card's training threshold is the default"
    rng = np.random.default_rng(0)
    # Frames of different streams and sizes in one call, as the endpoint batches them.
    frames = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for w, h in [(320, 192)] * 3]
    frames += [rng.integers(0, 255, (200, 100, 3), dtype=np.uint8)]
    batched = pipeline.detect(frames)
    single = [FramePipeline(loaded, batch_size=1).detect([f])[0] for f in frames]
    assert len(batched) == len(frames)
    for a, b in zip(batched, single, strict=True):
        assert len(a) > 0
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
        assert (a.scores > pipeline.decode_thres).all()
        assert a.embeddings.shape == (len(a), loaded.card.reid_dim)
    # 2x upscaled frames: the letterbox scale is 0.5, so the 24x48 input-px boxes become 48x96,
    # also those crossing the frame's border (boxes are amodal, not clipped).
    boxes = batched[0].boxes
    sizes = boxes[:, 2:] - boxes[:, :2]
    assert (boxes[:, 0] < 0).any() or (boxes[:, 1] < 0).any()
    np.testing.assert_allclose(sizes, [[48, 96]] * len(sizes), atol=0.1)


def test_output_filter_drops_small_and_wide_boxes() -> None:
    rule = OutputFilter()
    assert rule.keep([0, 0, 20, 40])
    assert not rule.keep([0, 0, 8, 12]), "area 96 <= 100"
    assert not rule.keep([0, 0, 40, 20]), "w/h 2 > 1.6"
    assert OutputFilter(min_box_area=0, max_aspect_ratio=3).keep([0, 0, 8, 12])


def test_a_streams_state_lives_in_its_tracker_across_calls(loaded: LoadedModel, clip: Path) -> None:
    pipeline = FramePipeline(loaded, batch_size=4)
    frames = list(open_video(clip))[:8]
    whole = pipeline.track_frames(frames, pipeline.new_tracker(FPS))
    tracker = pipeline.new_tracker(FPS)
    # Same forward batches (4 + 4), fed in two calls with another stream's tracker in between.
    split = pipeline.track_frames(frames[:4], tracker)
    pipeline.track_frames(frames[4:], pipeline.new_tracker(FPS))
    # Read each frame's tracks right away: the tracker reuses its Track objects.
    split += [reports(pipeline.update(tracker, d)) for d in pipeline.detect(frames[4:])]
    for a, b in zip(whole, split, strict=True):
        assert [t.track_id for t in a] == [t.track_id for t in b]
        np.testing.assert_allclose([t.box for t in a], [t.box for t in b], atol=1e-3)
    # Only the box moves, so most detections recur and keep their ids once confirmed.
    first, last = {t.track_id for t in whole[1]}, {t.track_id for t in whole[-1]}
    assert first and len(first & last) >= len(first) // 2


def test_track_video_writes_all_outputs_consistently(
    loaded: LoadedModel, clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = FramePipeline(loaded).track_video(clip, out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_NAMES), "no staging left"
    annotated = open_video(out / "annotated.mp4")
    assert (annotated.width, annotated.height, annotated.fps) == (W, H, FPS)
    assert len(list(annotated)) == FRAMES
    with av.open(str(out / "annotated.mp4")) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    rows = read_mot_results(out / "tracks.txt")
    assert len(rows) > 0 and rows[:, 0].min() >= 1 and rows[:, 0].max() <= FRAMES
    assert all(line.endswith(",-1,-1,-1") for line in (out / "tracks.txt").read_text().split())
    tracks_json = json.loads((out / "tracks.json").read_text())
    assert [f["frame"] for f in tracks_json["frames"]] == list(range(1, FRAMES + 1))
    listed = sorted(
        (f["frame"], t["track_id"], *t["bbox"]) for f in tracks_json["frames"] for t in f["tracks"]
    )
    np.testing.assert_allclose(np.array(listed), rows[:, :6], atol=0.01)
    saved = json.loads((out / "summary.json").read_text())
    assert saved["frames"] == summary.frames == FRAMES
    assert saved["tracks"] == len(set(rows[:, 1])) > 0
    assert set(saved["timings"]) == {"decode", "infer", "track", "encode"}
    assert all(v > 0 for v in saved["timings"].values())
    assert saved["codec"] == "h264" and saved["fps"] > 0


def test_failed_video_keeps_the_earlier_complete_results(
    loaded: LoadedModel, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    out = tmp_path / "out"
    out.mkdir()
    # An earlier run's complete result is replaced only by a complete one (issue 10), and a
    # failed run leaves nothing of its own: no partial files, no staging folder.
    (out / "summary.json").write_text('{"earlier": true}')
    with pytest.raises(VideoError, match="cannot be read"):
        FramePipeline(loaded).track_video(notes, out, progress=False)
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert (out / "summary.json").read_text() == '{"earlier": true}'
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial")]


def test_a_model_failure_on_the_last_batch_fails_the_job_instead_of_hanging(
    loaded: LoadedModel, clip: Path, tmp_path: Path
) -> None:
    # One batch holds the whole clip, so the reader has already sent its end marker when the
    # forward pass fails: the encoder thread must still be told to stop.
    pipeline = FramePipeline(loaded, batch_size=FRAMES + 1)

    def broken(prepared: object) -> dict[str, object]:
        raise RuntimeError("CUDA out of memory")

    pipeline.forward = broken  # type: ignore[method-assign]
    outcome: list[BaseException | None] = []

    def job() -> None:
        try:
            pipeline.track_video(clip, tmp_path / "out", progress=False)
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=job, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "track_video hung after the model failed"
    assert isinstance(outcome[0], RuntimeError) and "out of memory" in str(outcome[0])
    assert not (tmp_path / "out").exists()


def test_cli_tracks_an_image_folder_without_video(
    loaded: LoadedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = save_artifact(loaded.model, loaded.card, tmp_path / "model", tarball=True)
    img1 = tmp_path / "SEQ" / "img1"
    img1.mkdir(parents=True)
    for i in range(6):
        cv2.imwrite(str(img1 / f"{i + 1:06d}.jpg"), np.full((H, W, 3), 90, np.uint8))
    out = tmp_path / "out"
    code = main(
        [
            "track",
            str(img1.parent),
            "--model",
            str(artifact),
            "--out",
            str(out),
            "--no-video",
            "--batch-size",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    assert "tracked 6 frames of SEQ" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "tracks.json", "tracks.txt"]
    assert json.loads((out / "summary.json").read_text())["codec"] is None


def test_cli_rejects_a_frame_rate_that_is_not_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img1").mkdir()
    cv2.imwrite(str(tmp_path / "img1" / "000001.jpg"), np.zeros((H, W, 3), np.uint8))
    args = ["track", str(tmp_path / "img1"), "--model", "m", "--out", str(tmp_path / "out")]
    assert main([*args, "--fps", "-5"]) == 2
    assert capsys.readouterr().err == "fairmot track: --fps must be positive, got -5\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", ["missing.mp4", "notes.mp4", "empty-dir"])
def test_cli_bad_input_is_one_line_and_non_zero(
    loaded: LoadedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    (tmp_path / "notes.mp4").write_text("not a video")
    (tmp_path / "empty-dir").mkdir()
    model_dir = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    out = tmp_path / "out"
    code = main(["track", str(tmp_path / bad), "--model", str(model_dir), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("fairmot track: ") and err.count("\n") == 1
    assert not out.exists() or list(out.iterdir()) == []


def test_the_video_job_follows_the_camera_from_each_frame_and_a_fixed_one_changes_nothing(
    loaded: LoadedModel, clip: Path
) -> None:
    # The stream hands every frame to the estimate (without it a camera_motion tracker refuses
    # to update); the clip's camera is fixed, so the tracks are those of the tracker without.
    runs = []
    for on in (False, True):
        config = FairByteConfig(camera_motion=on)
        pipeline = FramePipeline(loaded, batch_size=4, tracker_config=config)
        runs.append([[(t.track_id, *t.box) for t in r.tracks] for r in pipeline.stream(clip)])
    assert len(runs[1]) == FRAMES and sum(map(len, runs[1])) > 0
    for off, on in zip(*runs, strict=True):
        np.testing.assert_allclose(np.array(off).reshape(-1, 5), np.array(on).reshape(-1, 5))


def test_an_endpoint_stream_follows_the_camera_like_the_pipeline(loaded: LoadedModel) -> None:
    from test_tracking_camera_motion import panned_video

    from fairmot.sagemaker import serve
    from fairmot.sagemaker.protocol import EncodedFrame, FrameRequest

    images = [image[:H, :W].copy() for image in panned_video(2, frames=6)[1]]
    pipeline = FramePipeline(loaded, tracker_config=FairByteConfig(camera_motion=True))
    tracker, prepared = pipeline.new_tracker(), [pipeline.prepare(image) for image in images]
    # Read at once: a Track is reused across frames.
    expected = [
        [(t.track_id, *t.tlwh) for t in pipeline.update(tracker, d, p)]
        for d, p in zip(pipeline.infer(prepared), prepared, strict=True)
    ]
    service = serve.TrackingService(max_streams=2, idle_seconds=60, max_batch=8)
    service.load(pipeline)
    try:
        answers = []
        for frame_id, image in enumerate(images):  # the camera's state lives in the stream
            frame = EncodedFrame(cv2.imencode(".png", image)[1].tobytes(), W, H, "body")
            request = FrameRequest("cam", False, frame_id, (frame,), None, None, 30, False)
            reply = service.handle(request)
            assert reply.status == 200, reply.body
            (answer,) = reply.body["frames"]
            answers.append([(t["track_id"], *t["bbox"]) for t in answer["tracks"]])
    finally:
        assert service.worker is not None
        service.worker.stop()
    assert sum(map(len, answers)) > 0
    for got, want in zip(answers, expected, strict=True):
        np.testing.assert_allclose(
            np.array(got).reshape(-1, 5), np.array(want).reshape(-1, 5), atol=0.006
        )


def test_a_request_of_several_frames_reports_each_frame_as_it_was(loaded: LoadedModel) -> None:
    """The tracker reuses its Track objects: each frame's answer must be read at that frame,
    not after the request's last frame (all frames once reported the last one's boxes)."""
    from test_tracking_camera_motion import panned_video

    from fairmot.sagemaker import serve
    from fairmot.sagemaker.protocol import EncodedFrame, FrameRequest

    images = [image[:H, :W].copy() for image in panned_video(2, frames=6)[1]]
    pipeline = FramePipeline(loaded)
    expected = [
        [(t.track_id, *t.tlwh) for t in tracks]
        for tracks in pipeline.track_frames(images, pipeline.new_tracker())
    ]
    assert len({tuple(np.round(np.array(f).ravel(), 3)) for f in expected if f}) > 1
    service = serve.TrackingService(max_streams=2, idle_seconds=60, max_batch=8)
    service.load(pipeline)
    try:
        frames = tuple(
            EncodedFrame(cv2.imencode(".png", image)[1].tobytes(), W, H, "body") for image in images
        )
        reply = service.handle(FrameRequest("cam", False, 0, frames, None, None, 30, False))
        assert reply.status == 200, reply.body
        answers = [[(t["track_id"], *t["bbox"]) for t in a["tracks"]] for a in reply.body["frames"]]
    finally:
        assert service.worker is not None
        service.worker.stop()
    assert len(answers) == len(images) and sum(map(len, answers)) > 0
    for got, want in zip(answers, expected, strict=True):
        np.testing.assert_allclose(
            np.array(got).reshape(-1, 5), np.array(want).reshape(-1, 5), atol=0.006
        )
