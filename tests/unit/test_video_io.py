"""Video input and output on real files: formats, bad input, browser-playable H.264."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from fairmot.video import Annotator, TrackBox, VideoError, VideoWriter, colour_for_id, open_video
from fairmot.video.outputs import (
    ANNOTATED_VIDEO,
    SUMMARY_JSON,
    TRACKS_MOT,
    AtomicOutputs,
    remove_stale_staging,
)

W, H, FPS, FRAMES = 160, 96, 25, 30


def moving_box(i: int) -> np.ndarray:
    frame = np.full((H, W, 3), 40, np.uint8)
    cv2.rectangle(frame, (5 + 3 * i, 20), (30 + 3 * i, 80), (0, 200, 255), -1)
    return frame


def write_pyav(path: Path, frames: int, fmt: str | None = None) -> Path:
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(moving_box(i), format="bgr24")))
        container.mux(stream.encode(None))
    return path


def write_opencv(path: Path, frames: int, fourcc: str) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), FPS, (W, H))
    for i in range(frames):
        writer.write(moving_box(i))
    writer.release()
    return path


@pytest.mark.parametrize(
    "name, make",
    [
        ("clip.mp4", lambda p: write_pyav(p, FRAMES)),
        ("clip.mkv", lambda p: write_pyav(p, FRAMES)),
        ("clip.mov", lambda p: write_pyav(p, FRAMES)),
        ("clip.avi", lambda p: write_opencv(p, FRAMES, "MJPG")),
        ("mp4v.mp4", lambda p: write_opencv(p, FRAMES, "mp4v")),
    ],
)
def test_reads_common_containers(tmp_path: Path, name: str, make) -> None:
    source = open_video(make(tmp_path / name))
    frames = list(source)
    assert (source.width, source.height, source.fps, source.frame_count) == (W, H, FPS, FRAMES)
    assert len(frames) == FRAMES
    assert frames[0].shape == (H, W, 3) and frames[0].dtype == np.uint8
    # The box moved right by 3 px a frame: the decoded content is the written content.
    orange = frames[10][50, 5 + 30 + 10] > 100
    assert orange[1] and orange[2] and not (frames[0][50, 5 + 30 + 10] > 100).all()
    assert len(list(source)) == FRAMES, "a source can be iterated again"


def test_reads_mot_sequence_folder_in_natural_order_at_seqinfo_rate(tmp_path: Path) -> None:
    img1 = tmp_path / "SEQ-01" / "img1"
    img1.mkdir(parents=True)
    for i in (1, 2, 10):  # natural order: 2 before 10
        frame = np.full((H, W, 3), i * 20, np.uint8)
        cv2.imwrite(str(img1 / f"frame{i}.png"), frame)
    (tmp_path / "SEQ-01" / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nframeRate=14\n")
    for path in (tmp_path / "SEQ-01", img1):
        source = open_video(path)
        assert (source.name, source.fps, source.frame_count) == ("SEQ-01", 14, 3)
        assert [int(f[0, 0, 0]) for f in source] == [20, 40, 200]


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d, "has no images"),
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: write_file(d / "empty.mp4", b""), "empty"),
        (lambda d: write_file(d / "notes.mp4", b"not a video"), "cannot be read"),
        (lambda d: write_opencv(d / "zero.mp4", 0, "mp4v"), "no frames"),
    ],
    ids=["empty-folder", "missing", "zero-bytes", "not-a-video", "zero-frames"],
)
def test_bad_inputs_raise_a_clear_video_error(tmp_path: Path, make, message: str) -> None:
    target = make(tmp_path)
    with pytest.raises(VideoError, match=message) as error:
        list(open_video(target))
    assert str(target) in str(error.value)


def test_truncated_mp4_is_rejected_at_open(tmp_path: Path) -> None:
    data = write_pyav(tmp_path / "full.mp4", FRAMES).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])  # index (moov) at the end: lost
    with pytest.raises(VideoError, match="cannot be read as a video"):
        open_video(cut)


def test_truncated_stream_fails_when_decoding_stops_short(tmp_path: Path) -> None:
    data = write_opencv(tmp_path / "full.avi", FRAMES, "MJPG").read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    source = open_video(cut)
    with pytest.raises(VideoError, match=r"stopped at frame \d+ of 30 \(truncated"):
        list(source)


@pytest.mark.parametrize("codec, stream_codec", [("h264", "h264"), ("mp4v", "mpeg4")])
def test_writer_output_decodes_back_with_frame_count_size_and_codec(
    tmp_path: Path, codec: str, stream_codec: str
) -> None:
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=FPS, width=W, height=H, codec=codec) as writer:  # type: ignore[arg-type]
        for i in range(FRAMES):
            writer.write(moving_box(i))
    source = open_video(path)
    assert (source.width, source.height, len(list(source))) == (W, H, FRAMES)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == stream_codec
        assert stream.codec_context.pix_fmt == "yuv420p"  # what browsers decode


def test_writer_pads_odd_sizes_to_even_for_yuv420(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, fps=FPS, width=W + 1, height=H + 1) as writer:
        writer.write(np.zeros((H + 1, W + 1, 3), np.uint8))
        with pytest.raises(ValueError, match="opened for"):
            writer.write(np.zeros((H, W, 3), np.uint8))
    source = open_video(path)
    assert (source.width, source.height) == (W + 2, H + 2)


def test_colours_are_stable_per_id_and_distinct_between_neighbours() -> None:
    assert colour_for_id(7) == colour_for_id(7)
    colours = {colour_for_id(i) for i in range(1, 21)}
    assert len(colours) == 20


def test_annotator_draws_box_label_and_trail_in_the_track_colour() -> None:
    annotator = Annotator(trail_length=5)
    colour = np.array(colour_for_id(3))
    for i in range(4):
        frame = np.zeros((H, W, 3), np.uint8)
        box = (20.0 + 10 * i, 30.0, 50.0 + 10 * i, 90.0)
        annotator.draw(frame, [TrackBox(track_id=3, box=box, score=0.9)])
    assert (frame[60, 50] == colour).all(), "left edge of the box"
    # The trail runs through the earlier centres (x=35..55 at y=60), inside the current box too.
    assert (np.abs(frame[60, 40].astype(int) - colour).sum()) < 60


def test_atomic_outputs_keep_earlier_results_on_failure_and_replace_them_on_commit(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, text in ((SUMMARY_JSON, "old"), (TRACKS_MOT, "old"), (ANNOTATED_VIDEO, "old")):
        (out / name).write_text(text)  # a complete earlier run
    with pytest.raises(RuntimeError), AtomicOutputs(out) as outputs:
        outputs.path(TRACKS_MOT).write_text("1,1,0,0,1,1,1,-1,-1,-1\n")
        raise RuntimeError("boom")
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        SUMMARY_JSON: "old",
        TRACKS_MOT: "old",
        ANNOTATED_VIDEO: "old",
    }
    with AtomicOutputs(out) as outputs:  # a run without video replaces all of it
        outputs.path(TRACKS_MOT).write_text("x")
        outputs.path(SUMMARY_JSON).write_text("{}")
        outputs.commit()
    assert {p.name: p.read_text() for p in out.iterdir()} == {SUMMARY_JSON: "{}", TRACKS_MOT: "x"}


def test_stale_staging_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    kept = tmp_path / "cam" / "a" / SUMMARY_JSON
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    stale = [tmp_path / "cam" / "a" / ".partial-x1y2", tmp_path / ".manifest.json.partial"]
    stale[0].mkdir()
    (stale[0] / TRACKS_MOT).write_text("half")
    stale[1].write_text("{")
    assert sorted(remove_stale_staging(tmp_path)) == sorted(stale)
    assert not any(p.exists() for p in stale) and kept.is_file()
    assert remove_stale_staging(tmp_path / "missing") == []


def test_a_box_past_the_left_edge_keeps_its_label_on_the_picture() -> None:
    # Amodal boxes may start left of the frame: the label is drawn from x = 0.
    frame = np.zeros((H, W, 3), np.uint8)
    Annotator().draw(frame, [TrackBox(track_id=3, box=(-30.0, 30.0, 20.0, 90.0), score=0.9)])
    label_rows = frame[:30, :8]
    assert (label_rows == np.array(colour_for_id(3))).all(axis=2).any()
