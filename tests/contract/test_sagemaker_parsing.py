"""Fast checks of the pieces at the container's edges: paths, the cluster, request parsing,
the stream registry and output naming (no model, no processes)."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from fairmot.sagemaker import serve
from fairmot.sagemaker.paths import ClusterSpec, ProcessingPaths, ServingPaths, TrainingPaths
from fairmot.sagemaker.process import find_videos, output_names
from fairmot.sagemaker.protocol import (
    MAX_BODY_BYTES,
    EncodedFrame,
    FrameRequest,
    RequestError,
    parse_custom_attributes,
    parse_request,
)
from fairmot.sagemaker.streams import StreamLimitError, StreamRegistry
from fairmot.sagemaker.train import JobConfigError, resolve_pretrained


def test_paths_default_to_opt_ml_and_follow_sagemaker_variables() -> None:
    default = TrainingPaths.from_env({})
    assert default.model_dir == Path("/opt/ml/model")
    assert default.checkpoint_dir == Path("/opt/ml/checkpoints")
    assert default.failure_file == Path("/opt/ml/output/failure")
    assert default.hyperparameters_file == Path("/opt/ml/input/config/hyperparameters.json")
    assert ProcessingPaths.from_env({}).video_dir == Path("/opt/ml/processing/input/video")
    moved = TrainingPaths.from_env(
        {"FAIRMOT_OPT_ML": "/r", "SM_MODEL_DIR": "/m", "SM_CHANNEL_TRAIN": "/d"}
    )
    assert (moved.model_dir, moved.train_channel) == (Path("/m"), Path("/d"))
    assert moved.checkpoint_dir == Path("/r/checkpoints")
    assert ServingPaths.from_env({"FAIRMOT_OPT_ML": "/r"}).model_dir == Path("/r/model")
    processing = ProcessingPaths.from_env({"FAIRMOT_OPT_ML": "/r"})
    assert processing.output_dir == Path("/r/processing/output")
    assert processing.message_file == Path("/r/output/message")


def test_cluster_from_variables_or_resourceconfig(tmp_path: Path) -> None:
    env = {"SM_HOSTS": '["algo-2", "algo-1"]', "SM_CURRENT_HOST": "algo-2", "SM_NUM_GPUS": "4"}
    cluster = ClusterSpec.from_env(tmp_path, env)
    assert cluster.hosts == ("algo-1", "algo-2") and cluster.host_rank == 1
    assert cluster.num_gpus == 4
    (tmp_path / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1", "algo-2", "algo-3"]})
    )
    cluster = ClusterSpec.from_env(tmp_path, {})
    assert cluster.hosts == ("algo-1", "algo-2", "algo-3") and cluster.host_rank == 0
    with pytest.raises(ValueError, match="not in the host list"):
        ClusterSpec.from_env(tmp_path, {"SM_CURRENT_HOST": "algo-9"})


def jpeg_b64(width: int = 64, height: int = 48) -> str:
    image = np.full((height, width, 3), 120, np.uint8)
    return base64.b64encode(cv2.imencode(".jpg", image)[1].tobytes()).decode()


def test_notebook_body_parses() -> None:
    body = {"frame_id": 0, "frame_data": jpeg_b64(), "frame_w": 64, "frame_h": 48, "batch_size": 1}
    request = parse_request("application/json; charset=utf-8", json.dumps(body).encode(), {})
    assert request.stream_id is None and request.frame_id == 0
    assert (request.frames[0].width, request.frames[0].height) == (64, 48)
    assert request.frames[0].decode().shape == (48, 64, 3)
    batch = {"frame_id": 4, "frame_data": [jpeg_b64(), jpeg_b64()], "stream_id": "cam"}
    request = parse_request("application/json", json.dumps(batch).encode(), {})
    assert (request.stream_id, request.frame_id, len(request.frames)) == ("cam", 4, 2)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"frame_data": "x"}', 400, "frame_id"),
        (b'{"frame_id": -1, "frame_data": "x"}', 400, "frame_id"),
        (b'{"frame_id": true, "frame_data": "x"}', 400, "frame_id"),
        (b'{"frame_id": 0}', 400, "frame_data"),
        (b'{"frame_id": 0, "frame_data": []}', 400, "frame_data"),
        (b'{"frame_id": 0, "frame_data": "%%%"}', 400, "base64"),
        (b'{"frame_id": 0, "frame_data": "aGVsbG8="}', 400, "not a JPEG or PNG"),
        (b"[" * 100_000, 400, "nested too deeply"),
        (b'{"frame_id": 1' + b"0" * 5000 + b"}", 400, "not valid JSON"),
        (b'{"frame_id": 0, "frame_data": "x", "frame_rate": 100000}', 400, "frame_rate"),
    ],
)
def test_bad_json_bodies_are_400(body: bytes, status: int, words: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request("application/json", body, {})
    assert caught.value.status == status and words in caught.value.message


def test_size_mismatch_and_content_type() -> None:
    body = {"frame_id": 0, "frame_data": jpeg_b64(), "frame_w": 65, "frame_h": 48}
    with pytest.raises(RequestError, match="65x48"):
        parse_request("application/json", json.dumps(body).encode(), {})
    with pytest.raises(RequestError) as caught:
        parse_request("text/plain", b"x", {})
    assert caught.value.status == 415
    assert MAX_BODY_BYTES == 6 * 1024 * 1024


def test_raw_image_with_custom_attributes_and_session_headers() -> None:
    raw = base64.b64decode(jpeg_b64())
    headers = {"X-Amzn-SageMaker-Custom-Attributes": "stream_id=abc,frame_id=3"}
    request = parse_request("image/jpeg", raw, headers)
    assert (request.stream_id, request.frame_id) == ("abc", 3)
    assert parse_custom_attributes("a=1; b = 2,junk") == {"a": "1", "b": "2"}
    new = parse_request("image/png", raw, {"X-Amzn-SageMaker-Session-Id": "NEW_SESSION"})
    assert new.new_session and new.stream_id is None
    clash = {"X-Amzn-SageMaker-Session-Id": "s1", **headers}
    with pytest.raises(RequestError, match="differs"):
        parse_request("image/jpeg", raw, clash)


def test_registry_expires_idle_streams_and_evicts_the_oldest() -> None:
    now = [0.0]
    registry = StreamRegistry(max_streams=2, idle_seconds=10, clock=lambda: now[0])
    for name in ("a", "b"):
        with registry.checkout(name, create=True) as stream:
            assert stream is not None and stream.stream_id == name
        now[0] += 1
    with registry.checkout("c", create=True):  # full: "a", idle longest, goes
        pass
    assert "a" not in registry and "b" in registry and "c" in registry
    with registry.checkout("missing", create=False) as stream:
        assert stream is None
    now[0] += 11
    with registry.checkout("d", create=True):  # b and c idle > 10 s: expired
        assert len(registry) == 1


def test_registry_never_evicts_a_stream_in_use() -> None:
    registry = StreamRegistry(max_streams=1, idle_seconds=10)
    with (
        registry.checkout("busy", create=True),
        pytest.raises(StreamLimitError),
        registry.checkout("other", create=True),
    ):
        pass
    assert "busy" in registry


class GatedModel:
    """A stand-in for FramePipeline: frames are numbers, a tracker is the list of numbers it saw,
    and forward passes wait while the gate is closed."""

    card = SimpleNamespace(input_w=4, input_h=4)

    def __init__(self) -> None:
        self.gate, self.entered = threading.Event(), threading.Event()
        self.gate.set()

    def detect(self, frames: list[np.ndarray]) -> list[Any]:
        return []

    def prepare(self, frame: np.ndarray) -> int:
        return int(frame[0, 0, 0])

    def new_tracker(self, frame_rate: float, tracker: str | None = None) -> list[int]:
        return []

    def infer(self, prepared: list[int]) -> list[int]:
        self.entered.set()
        self.gate.wait()
        return list(prepared)

    def update(self, tracker: list[int], frame: int, prepared: int) -> list[Any]:
        tracker.append(frame)
        return []


def frame_request(stream_id: str, frame_id: int) -> FrameRequest:
    png = cv2.imencode(".png", np.full((4, 4, 3), frame_id, np.uint8))[1].tobytes()
    frame = EncodedFrame(png, 4, 4, "body")
    return FrameRequest(stream_id, False, frame_id, (frame,), None, None, 30, False)


def test_a_timed_out_request_leaves_its_stream_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "INVOCATION_TIMEOUT_S", 0.2)
    model = GatedModel()
    service = serve.TrackingService(max_streams=4, idle_seconds=60, max_batch=8)
    service.load(model)
    try:
        assert service.handle(frame_request("a", 0)).status == 200
        model.gate.clear()
        model.entered.clear()
        replies: list[serve.Reply] = []
        other = threading.Thread(
            target=lambda: replies.append(service.handle(frame_request("b", 0)))
        )
        other.start()
        assert model.entered.wait(5)
        # Stream a's frame 1 waits behind b's forward pass, times out and is withdrawn.
        with pytest.raises(RequestError) as timed_out:
            service.handle(frame_request("a", 1))
        assert timed_out.value.status == 503
        model.gate.set()
        other.join(5)
        # b's frames were already in the model when its wait ran out: they count and answer.
        assert [r.status for r in replies] == [200]
        assert service.handle(frame_request("a", 1)).status == 200
        with service.registry.checkout("a", create=False) as stream:
            assert stream is not None and stream.tracker == [0, 1], "frame 1 tracked once"
            assert stream.next_frame == 2
    finally:
        model.gate.set()
        assert service.worker is not None
        service.worker.stop()


def test_output_names_keep_folders_and_separate_same_stems(tmp_path: Path) -> None:
    for name in ("cam1/a.mp4", "cam1/a.avi", "b.MOV", "notes.txt", "c.mp4", "c.MP4"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    videos = find_videos(tmp_path)
    assert [v.name for v in videos] == ["b.MOV", "c.MP4", "c.mp4", "a.avi", "a.mp4"]
    names = {v.name: str(n) for v, n in output_names(videos, tmp_path).items()}
    assert names == {
        "b.MOV": "b",
        "c.MP4": "c_MP4",
        "c.mp4": "c_mp4",
        "a.avi": "cam1/a_avi",
        "a.mp4": "cam1/a_mp4",
    }


def test_pretrained_channel_resolution(tmp_path: Path) -> None:
    assert resolve_pretrained("", tmp_path / "absent") == ""
    (tmp_path / "fairmot_dla34.pth").write_bytes(b"")
    assert resolve_pretrained("", tmp_path) == str(tmp_path / "fairmot_dla34.pth")
    assert resolve_pretrained("fairmot_dla34.pth", tmp_path) == str(tmp_path / "fairmot_dla34.pth")
    (tmp_path / "ctdet_coco_dla_2x.pth").write_bytes(b"")
    with pytest.raises(JobConfigError, match="set load_model"):
        resolve_pretrained("", tmp_path)


def test_sagemaker_transport_opens_uses_and_closes_a_session() -> None:
    """The boto3 calls the client makes, checked against the real service model (Stubber)."""
    import io

    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import ANY, Stubber

    from fairmot.client import SageMakerTransport, StreamSession

    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )

    def answer(payload: dict[str, object], **extra: str) -> dict[str, object]:
        raw = json.dumps(payload).encode()
        return {"Body": StreamingBody(io.BytesIO(raw), len(raw)), **extra}

    frame = np.full((48, 64, 3), 90, np.uint8)
    base = {"EndpointName": "ep", "ContentType": "application/json", "Accept": "application/json"}
    with Stubber(runtime) as stub:
        stub.add_response(
            "invoke_endpoint",
            answer(
                {"stream_id": "s9", "frames": [{"frame_id": 0, "tracks": []}]},
                NewSessionId="s9; Expires=2030-01-01T00:00:00Z",
            ),
            {**base, "Body": ANY, "SessionId": "NEW_SESSION"},
        )
        stub.add_response(
            "invoke_endpoint",
            answer({"stream_id": "s9", "frames": [{"frame_id": 1, "tracks": []}]}),
            {**base, "Body": ANY, "SessionId": "s9"},
        )
        stub.add_response(
            "invoke_endpoint",
            answer({"stream_id": "s9", "closed": True, "frames": []}, ClosedSessionId="s9"),
            {**base, "Body": ANY, "SessionId": "s9"},
        )
        session = StreamSession(SageMakerTransport("ep", client=runtime))
        assert session.send([frame], frame_rate=25)[0]["frame_id"] == 0
        assert session.session == "s9" and session.stream_id == "s9"
        assert session.send([frame], frame_rate=25)[0]["frame_id"] == 1
        session.close()
        stub.assert_no_pending_responses()


class ScriptedEndpoint:
    """A transport answering like `serve`: track 7 on every frame, then the close."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def invoke(self, body: bytes, session: str | None) -> Any:
        from fairmot.client import Answer

        request = json.loads(body)
        self.bodies.append(request)
        if request.get("close"):
            return Answer({"stream_id": request["stream_id"], "closed": True, "frames": []})
        count = len(request["frame_data"]) if isinstance(request["frame_data"], list) else 1
        first = request["frame_id"]
        track = {"track_id": 7, "bbox": [4.0, 6.0, 10.0, 20.0], "score": 0.9, "class_id": 1}
        frames = [{"frame_id": first + i, "tracks": [track]} for i in range(count)]
        return Answer({"stream_id": request["stream_id"], "frames": frames})


def test_streamed_video_results_have_the_processing_job_files(tmp_path: Path) -> None:
    from fairmot.client import stream_video
    from fairmot.evaluation import read_mot_results

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    endpoint = ScriptedEndpoint()
    out = tmp_path / "out"
    summary = stream_video(video, endpoint, out, batch_size=2, progress=False, write_video=False)
    assert [b.get("frame_id") for b in endpoint.bodies] == [0, 2, 4, None]
    assert endpoint.bodies[-1]["close"] is True
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "tracks.json", "tracks.txt"]
    saved = json.loads((out / "summary.json").read_text())
    assert saved == summary
    assert saved["frames"] == 5 and saved["tracks"] == 1 and saved["client"]["requests"] == 3
    assert saved["outputs"] == ["tracks.txt", "tracks.json", "summary.json"]
    rows = read_mot_results(out / "tracks.txt")
    assert rows[:, 0].tolist() == [1, 2, 3, 4, 5] and set(rows[:, 1]) == {7}
    frames = json.loads((out / "tracks.json").read_text())["frames"]
    assert [f["frame"] for f in frames] == [1, 2, 3, 4, 5]
    track = {"track_id": 7, "bbox": [4.0, 6.0, 10.0, 20.0], "score": 0.9, "class_id": 1}
    assert frames[0]["tracks"] == [track]  # the endpoint's class travels to both files
    assert read_mot_results(out / "tracks.txt", classes=True)[:, 7].tolist() == [1] * 5


def test_a_failed_rank_fails_the_job_though_its_stopped_peers_exit_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import subprocess
    import sys

    from fairmot.sagemaker import train

    ranks = {
        "0": "import sys, time; time.sleep(1); sys.exit(1)",
        # A healthy rank told to stop checkpoints and exits 143, as worker_main does.
        "1": "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))\ntime.sleep(60)",
    }
    popen = subprocess.Popen

    def fake_rank(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return popen([sys.executable, "-c", ranks[env["RANK"]]], env=env)

    monkeypatch.setattr(train.subprocess, "Popen", fake_rank)
    paths = TrainingPaths.from_env({"FAIRMOT_OPT_ML": str(tmp_path)})
    cluster = ClusterSpec(hosts=("algo-1",), current_host="algo-1", num_gpus=0)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert train.launch(paths, cluster, 2) == 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "[1, 143]" in paths.failure_file.read_text()


def test_sagemaker_transport_reports_an_unreachable_endpoint_as_an_endpoint_error() -> None:
    from botocore.exceptions import EndpointConnectionError

    from fairmot.client import EndpointError, SageMakerTransport

    class Unreachable:
        def invoke_endpoint(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://runtime.sagemaker.invalid")

    with pytest.raises(EndpointError, match="ep: Could not connect") as error:
        SageMakerTransport("ep", client=Unreachable()).invoke(b"{}", None)
    assert error.value.status is None
