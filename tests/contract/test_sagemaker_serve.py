"""The `serve` entry point over real HTTP on 127.0.0.1: the notebook protocol, many streams,
SageMaker stateful sessions, and client errors that leave every stream untouched."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cv2
import pytest
from sagemaker_support import BIN, SERVE_TRACKER, free_port, opt_ml_env

pytestmark = pytest.mark.slow

FRAMES = 12


def post(
    url: str, body: bytes, content_type: str = "application/json", **headers: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": content_type, **headers})
        response = connection.getresponse()
        payload = json.loads(response.read() or b"{}")
        return response.status, payload, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def frame_files(dataset: Path) -> list[Path]:
    return sorted((dataset / "SYN1-01" / "img1").glob("*.jpg"))[:FRAMES]


def notebook_request(path: Path, frame_id: int, **extra: Any) -> bytes:
    """Exactly the notebook's loop body (plus extra fields such as stream_id)."""
    with open(path, "rb") as image_file:
        img_data = base64.b64encode(image_file.read())
    data: dict[str, Any] = {"frame_id": frame_id}
    data["frame_data"] = img_data.decode("utf-8")
    if frame_id == 0:
        height, width = cv2.imread(str(path)).shape[:2]
        data["frame_w"] = width
        data["frame_h"] = height
        data["batch_size"] = 1
    data.update(extra)
    return json.dumps(data).encode("utf-8")


def ids(answer: dict[str, Any]) -> list[int]:
    return sorted(t["track_id"] for t in answer["frames"][0]["tracks"])


@pytest.fixture(scope="module")
def expected(model_dir: Path, tiny_dataset: Path) -> list[list[int]]:
    """Track ids per frame from FramePipeline in this process: what every stream must get."""
    from fairmot.model import load_artifact
    from fairmot.pipeline import FramePipeline

    pipeline = FramePipeline(load_artifact(model_dir), batch_size=4, tracker_config=SERVE_TRACKER)
    frames = [cv2.imread(str(p)) for p in frame_files(tiny_dataset)]
    tracks = pipeline.track_frames(frames, pipeline.new_tracker(30))
    return [sorted(t.track_id for t in per_frame) for per_frame in tracks]


def test_ping_and_unknown_paths(serve_url: str) -> None:
    parsed = urlparse(serve_url)
    for method, path, status in (("GET", "/ping", 200), ("GET", "/nope", 404), ("POST", "/x", 404)):
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        connection.request(method, path, b"{}" if method == "POST" else None)
        response = connection.getresponse()
        assert response.status == status, path
        connection.close()


def test_notebook_client_gets_stable_ids(
    serve_url: str, tiny_dataset: Path, expected: list[list[int]]
) -> None:
    got = []
    for frame_id, path in enumerate(frame_files(tiny_dataset)):
        status, answer, _ = post(serve_url, notebook_request(path, frame_id))
        assert status == 200, answer
        assert answer["stream_id"] == "default"
        assert answer["frames"][0]["frame_id"] == frame_id
        track = (answer["frames"][0]["tracks"] or [None])[0]
        if track is not None:
            assert set(track) == {"track_id", "bbox", "score", "class_id"}
            assert len(track["bbox"]) == 4 and track["class_id"] == 0
        got.append(ids(answer))
    assert got == expected
    # Stable: the people of frame 1 keep their ids for several frames.
    assert len(set(expected[1]) & set(expected[5]) & set(expected[9])) >= 3


def test_two_interleaved_streams_and_bad_requests_between_them(
    serve_url: str, tiny_dataset: Path, expected: list[list[int]]
) -> None:
    files = frame_files(tiny_dataset)
    got: dict[str, list[list[int]]] = {"a": [], "b": []}
    for frame_id, path in enumerate(files):
        for stream in ("a", "b"):
            if stream == "b" and frame_id < 3:
                continue  # b starts later, so its tracker is at another frame than a's
            first = 0 if stream == "a" else 3
            status, answer, _ = post(
                serve_url, notebook_request(path, frame_id - first, stream_id=f"s-{stream}")
            )
            assert status == 200, answer
            got[stream].append(ids(answer))
        if frame_id == 5:  # malformed requests in the middle of both streams
            assert post(serve_url, b"{not json", stream_id="s-a")[0] == 400
            body = json.dumps({"frame_id": 6, "frame_data": "!!", "stream_id": "s-a"}).encode()
            assert post(serve_url, body)[0] == 400
            garbage = base64.b64encode(b"definitely not a jpeg").decode()
            body = json.dumps({"frame_id": 6, "frame_data": garbage, "stream_id": "s-b"}).encode()
            assert post(serve_url, body)[0] == 400
            assert post(serve_url, b"x", "text/plain")[0] == 415
    assert got["a"] == expected
    assert got["b"] == expected_from(files[3:], serve_url)


def expected_from(files: list[Path], serve_url: str) -> list[list[int]]:
    """The same frames as a fresh stream of their own."""
    out = []
    for frame_id, path in enumerate(files):
        status, answer, _ = post(serve_url, notebook_request(path, frame_id, stream_id="s-ref"))
        assert status == 200
        out.append(ids(answer))
    return out


@pytest.mark.parametrize("name", ["fairbyte", "fairmot"])
def test_a_stream_names_its_tracker_on_frame_0(
    serve_url: str, model_dir: Path, tiny_dataset: Path, name: str
) -> None:
    from fairmot.model import load_artifact
    from fairmot.pipeline import FramePipeline

    pipeline = FramePipeline(load_artifact(model_dir), batch_size=4)
    frames = [cv2.imread(str(p)) for p in frame_files(tiny_dataset)]
    tracks = pipeline.track_frames(frames, pipeline.new_tracker(30, name))
    want = [sorted(t.track_id for t in per_frame) for per_frame in tracks]
    got = []
    for frame_id, path in enumerate(frame_files(tiny_dataset)):
        extra = {"tracker": name} if frame_id == 0 else {}
        status, answer, _ = post(
            serve_url, notebook_request(path, frame_id, stream_id=name, **extra)
        )
        assert status == 200, answer
        got.append(ids(answer))
    assert got == want
    path = frame_files(tiny_dataset)[0]
    status, body, _ = post(serve_url, notebook_request(path, 0, stream_id="t", tracker="x.yaml"))
    assert status == 400 and "'tracker' must be one of fairbyte, fairmot" in body["error"]
    status, body, _ = post(serve_url, notebook_request(path, 1, stream_id=name, tracker=name))
    assert status == 400 and "frame_id 0" in body["error"]


def test_client_errors(serve_url: str, tiny_dataset: Path) -> None:
    path = frame_files(tiny_dataset)[0]
    status, body, _ = post(serve_url, b"frame", "text/csv")
    assert status == 415 and "application/json" in body["error"]
    status, body, _ = post(serve_url, b"[1, 2]")
    assert status == 400 and "object" in body["error"]
    status, body, _ = post(serve_url, json.dumps({"frame_data": "AAAA"}).encode())
    assert status == 400 and "frame_id" in body["error"]
    status, body, _ = post(serve_url, notebook_request(path, 0, frame_w=999, stream_id="e"))
    assert status == 400 and "999" in body["error"]
    status, body, _ = post(serve_url, notebook_request(path, 0, batch_size=2, stream_id="e"))
    assert status == 400 and "batch_size" in body["error"]
    status, body, _ = post(serve_url, notebook_request(path, 4, stream_id="never-started"))
    assert status == 404 and "frame_id 0" in body["error"]
    big = b'{"frame_id": 0, "frame_data": "' + b"A" * (6 * 1024 * 1024) + b'"}'
    status, body, _ = post(serve_url, big)
    assert status == 413 and "6 MB" in body["error"]
    # A frame twice: rejected, the stream goes on.
    assert post(serve_url, notebook_request(path, 0, stream_id="dup"))[0] == 200
    assert post(serve_url, notebook_request(path, 1, stream_id="dup"))[0] == 200
    status, body, _ = post(serve_url, notebook_request(path, 1, stream_id="dup"))
    assert status == 409 and "next frame is 2" in body["error"]
    smaller = cv2.imencode(".png", cv2.imread(str(path))[:50, :60])[1].tobytes()
    body_json = {
        "frame_id": 2,
        "frame_data": base64.b64encode(smaller).decode(),
        "stream_id": "dup",
    }
    status, body, _ = post(serve_url, json.dumps(body_json).encode())
    assert status == 400 and "60x50" in body["error"]
    assert post(serve_url, notebook_request(path, 2, stream_id="dup"))[0] == 200


def test_batches_raw_images_and_stateful_sessions(
    serve_url: str, tiny_dataset: Path, expected: list[list[int]]
) -> None:
    files = frame_files(tiny_dataset)
    encoded = [base64.b64encode(p.read_bytes()).decode() for p in files]
    # Frames 0-3 in one request (a list in frame_data), opening a SageMaker session.
    first = json.dumps({"frame_id": 0, "frame_data": encoded[:4], "batch_size": 4}).encode()
    status, answer, headers = post(
        serve_url, first, **{"X-Amzn-SageMaker-Session-Id": "NEW_SESSION"}
    )
    assert status == 200, answer
    session, expires = headers["x-amzn-sagemaker-new-session-id"].split("; ")
    assert expires.startswith("Expires=") and session == answer["stream_id"]
    assert [f["frame_id"] for f in answer["frames"]] == [0, 1, 2, 3]
    got = [sorted(t["track_id"] for t in f["tracks"]) for f in answer["frames"]]
    # Frames 4-7 as raw JPEG bodies, the session header naming the stream.
    for frame_id in range(4, 8):
        status, answer, _ = post(
            serve_url,
            files[frame_id].read_bytes(),
            "image/jpeg",
            **{
                "X-Amzn-SageMaker-Session-Id": session,
                "X-Amzn-SageMaker-Custom-Attributes": f"frame_id={frame_id}",
            },
        )
        assert status == 200, answer
        got.append(ids(answer))
    assert got == expected[:8]
    # A raw image naming its stream in the custom attributes only.
    status, answer, _ = post(
        serve_url,
        files[0].read_bytes(),
        "image/jpeg",
        **{"X-Amzn-SageMaker-Custom-Attributes": "stream_id=raw,frame_id=0"},
    )
    assert status == 200 and answer["stream_id"] == "raw" and ids(answer) == expected[0]
    # Closing ends the session; the stream is gone afterwards.
    status, answer, headers = post(
        serve_url, b'{"close": true}', **{"X-Amzn-SageMaker-Session-Id": session}
    )
    assert status == 200 and answer["closed"] is True
    assert headers["x-amzn-sagemaker-closed-session-id"] == session
    status, _, _ = post(
        serve_url,
        notebook_request(files[8], 8),
        **{"X-Amzn-SageMaker-Session-Id": session},
    )
    assert status == 404


def test_serve_without_a_model_exits_non_zero(tmp_path: Path) -> None:
    env = opt_ml_env(
        tmp_path,
        SAGEMAKER_BIND_TO_PORT=str(free_port()),
        FAIRMOT_BIND_HOST="127.0.0.1",
    )
    result = subprocess.run(
        [str(BIN / "serve")], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "model.tar.gz" in result.stderr


def test_stream_cap_evicts_the_oldest_idle_stream(serve_url: str, tiny_dataset: Path) -> None:
    path = frame_files(tiny_dataset)[0]
    for number in range(9):  # the server keeps at most 8 streams
        assert post(serve_url, notebook_request(path, 0, stream_id=f"cap-{number}"))[0] == 200
    assert post(serve_url, notebook_request(path, 1, stream_id="cap-8"))[0] == 200
    assert post(serve_url, notebook_request(path, 1, stream_id="cap-0"))[0] == 404


def test_concurrent_streams_match_sequential_results(
    serve_url: str, tiny_dataset: Path, expected: list[list[int]]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    files = frame_files(tiny_dataset)

    def run_stream(name: str) -> list[list[int]]:
        out = []
        for frame_id, path in enumerate(files):
            status, answer, _ = post(serve_url, notebook_request(path, frame_id, stream_id=name))
            assert status == 200, answer
            out.append(ids(answer))
        return out

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run_stream, [f"conc-{i}" for i in range(4)]))
    assert all(result == expected for result in results)


def test_a_stalled_upload_is_cut_off_and_other_requests_go_on(
    serve_url: str, tiny_dataset: Path
) -> None:
    parsed = urlparse(serve_url)
    stalled = socket.create_connection((parsed.hostname, parsed.port), timeout=30)
    try:
        # Declares 1000 bytes of body, sends 10, then goes silent.
        stalled.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"frame_id'
        )
        status, answer, _ = post(serve_url, notebook_request(frame_files(tiny_dataset)[0], 0))
        assert status == 200 and answer["frames"][0]["frame_id"] == 0
        started = time.monotonic()
        answer = stalled.recv(4096)  # cut at the request deadline (FAIRMOT_REQUEST_DEADLINE_S=10)
        assert answer.startswith(b"HTTP/1.1 408") and b'"error"' in answer
        assert stalled.recv(1024) == b""  # and closed
        assert time.monotonic() - started < 30
    finally:
        stalled.close()
