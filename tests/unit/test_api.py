"""The Python API of the README on a small trained model: video, stream and single frames."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

import fairmot
from fairmot.backends import BackendError
from fairmot.tracking import FairByteConfig
from fairmot.video import open_video

pytestmark = pytest.mark.slow  # trains a tiny model once (~20 s)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairmot.data.synth.writer import generate_dataset

    out = tmp_path_factory.mktemp("api-data") / "synth"
    return Path(generate_dataset(out, sequences=1, frames=40, width=320, height=192, seed=3))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, dataset: Path) -> Path:
    from fairmot.train.hparams import TrainConfig
    from fairmot.train.loop import train

    config = TrainConfig.from_strings(
        {
            "arch": "lite",
            "input_w": "160",
            "input_h": "96",
            "num_epochs": "8",
            "batch_size": "4",
            "num_workers": "0",
            "lr": "0.002",
            "lr_step": "7",
            "conf_thres": "0.2",
        }
    )
    out = tmp_path_factory.mktemp("api-model")
    train(config, dataset, out / "model", out / "checkpoints", log=lambda *_: None)
    return out / "model"


@pytest.fixture(scope="module")
def video(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sequence as an H.264 mp4: the input a user has."""
    path = tmp_path_factory.mktemp("api-video") / "walk.mp4"
    source = open_video(next(p for p in dataset.iterdir() if p.is_dir()))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = source.width, source.height, "yuv420p"
        for frame in source:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode(None))
    return path


def test_readme_snippet_video_stream_and_frames(
    model_dir: Path, video: Path, tmp_path: Path
) -> None:
    model = fairmot.load(model_dir)
    result = model.track(video, out=tmp_path / "tracked")
    assert result.frames == 40 and result.tracks > 0 and not result.truncated
    files = sorted(p.name for p in (tmp_path / "tracked").iterdir())
    assert files == ["annotated.mp4", "summary.json", "tracks.json", "tracks.txt"]

    streamed = list(model.track(video, stream=True))
    assert [f.frame_id for f in streamed] == list(range(1, 41))
    rows = np.loadtxt(tmp_path / "tracked" / "tracks.txt", delimiter=",", ndmin=2)
    # The stream and the written results are the same tracks, frame by frame.
    assert sum(len(f.tracks) for f in streamed) == len(rows)
    first = next(t for f in streamed for t in f.tracks)
    assert first.track_id >= 1 and len(first.box) == 4 and 0 < first.score <= 1
    assert first.class_id == 0

    frames = list(open_video(video))
    per_frame = [model.update(frame) for frame in frames]
    ids = [[t.track_id for t in tracks] for tracks in per_frame]
    assert ids == [[t.track_id for t in f.tracks] for f in streamed]  # a persistent tracker
    model.reset()
    assert [t.track_id for t in model.update(frames[0])] == ids[0]


def test_frame_by_frame_follows_the_camera_like_the_stream(model_dir: Path, video: Path) -> None:
    # With camera_motion on, `update` hands each frame to the estimate as the stream does.
    model = fairmot.load(model_dir, tracker=FairByteConfig(camera_motion=True))
    streamed = [[t.track_id for t in f.tracks] for f in model.track(video, stream=True)]
    assert sum(map(len, streamed)) > 0
    assert [[t.track_id for t in model.update(frame)] for frame in open_video(video)] == streamed


def test_a_second_run_goes_to_a_numbered_folder_unless_exist_ok(
    model_dir: Path, video: Path, tmp_path: Path
) -> None:
    model = fairmot.load(model_dir)
    out = tmp_path / "exp"
    model.track(video, out=out, save_video=False, frames=5)
    model.track(video, out=out, save_video=False, frames=5)
    assert (tmp_path / "exp2" / "summary.json").is_file()
    model.track(video, out=out, save_video=False, frames=5, exist_ok=True)
    assert not (tmp_path / "exp3").exists()


def test_start_and_frames_track_part_of_a_video(model_dir: Path, video: Path) -> None:
    model = fairmot.load(model_dir)
    ids = [f.frame_id for f in model.track(video, stream=True, start=30, frames=5)]
    assert ids == [31, 32, 33, 34, 35]
    with pytest.raises(Exception, match="past the end"):
        list(model.track(video, stream=True, start=99))


def test_onnx_export_loads_and_matches_torch(model_dir: Path, video: Path, tmp_path: Path) -> None:
    from fairmot.export import export_onnx

    exported = export_onnx(model_dir, tmp_path / "model.onnx")
    assert exported.max_abs_diff is not None and exported.max_abs_diff <= 1e-4
    onnx_model = fairmot.load(exported.path)
    torch_model = fairmot.load(model_dir, backend="torch")
    assert (onnx_model.backend, torch_model.backend) == ("onnxruntime", "torch")
    for a, b in zip(
        onnx_model.track(video, stream=True), torch_model.track(video, stream=True), strict=True
    ):
        assert [t.track_id for t in a.tracks] == [t.track_id for t in b.tracks]
        np.testing.assert_allclose(
            [t.box for t in a.tracks], [t.box for t in b.tracks], atol=1e-2, rtol=0
        )
    with pytest.raises(BackendError, match="runs on backend onnxruntime only"):
        fairmot.load(exported.path, backend="torch")
    with pytest.raises(BackendError, match="unknown backend 'tensorrt'"):
        fairmot.load(model_dir, backend="tensorrt")


def test_every_command_is_a_function(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    code = fairmot.run("synth", out, sequences=1, frames=3, width=64, height=64)
    assert code == 0 and json.loads((out / "manifest.json").read_text())["sequences"]
    assert fairmot.run("track", "--no-such-flag") == 2
