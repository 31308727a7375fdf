"""The SDK predictor speaks the endpoint's frame protocol, and streams a video to local mode."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from fairmot.client import EndpointError, StreamSession
from fairmot.sagemaker.protocol import NEW_SESSION
from fairmot.sdk.inference import EndpointTransport, predictor, track_video, tracks_deserializer
from fairmot.sdk.session import boto_session

REPO = Path(__file__).resolve().parents[2]
# Local mode and `serve` need torch, which .venv-sdk does not have: they run from .venv.
MAIN_PYTHON = Path(os.environ.get("FAIRMOT_MAIN_PYTHON", REPO / ".venv" / "bin" / "python"))


class Sent(Exception):
    """Raised once the SDK has built its request: nothing is sent."""


def test_first_frame_opens_a_session_and_sends_the_notebook_fields() -> None:
    boto = boto_session("http://127.0.0.1:9")
    sent: dict[str, Any] = {}

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.update(params)
        raise Sent()

    boto.events.register("provide-client-params.sagemaker-runtime.InvokeEndpoint", record)
    stream = StreamSession(EndpointTransport(predictor("fairmot-dev-tracker"), boto))
    frame = np.full((48, 64, 3), 90, np.uint8)
    with pytest.raises(Sent):
        stream.send([frame], frame_rate=25.0)
    assert sent["EndpointName"] == "fairmot-dev-tracker"
    assert sent["ContentType"] == sent["Accept"] == "application/json"
    assert sent["SessionId"] == NEW_SESSION
    body = json.loads(sent["Body"])
    assert (body["frame_id"], body["frame_w"], body["frame_h"], body["frame_rate"]) == (
        0,
        64,
        48,
        25,
    )
    assert body["stream_id"] == stream.stream_id
    jpeg = cv2.imdecode(np.frombuffer(base64.b64decode(body["frame_data"]), np.uint8), 1)
    assert jpeg.shape == frame.shape


def test_an_answer_without_frames_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError, match="without frames"):
        tracks_deserializer().deserialize(b'{"error": "bad frame"}', "application/json")
    with pytest.raises(EndpointError, match="non-JSON"):
        tracks_deserializer().deserialize(b"<html>", "text/html")


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`fairmot local up` from the main venv (moto server, seams, template deployed)."""
    if not MAIN_PYTHON.exists():
        pytest.skip("local mode runs from .venv: make venv")
    state = tmp_path / "state"
    code = (
        "import sys; from pathlib import Path; from fairmot.local.daemon import start; "
        "start(Path(sys.argv[1]), Path(sys.argv[2]), None, 0.01)"
    )
    subprocess.run(
        [str(MAIN_PYTHON), "-c", code, str(state), str(REPO / "template.yaml")],
        check=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    try:
        yield json.loads((state / "stack.json").read_text())
    finally:
        stop = "import sys; from pathlib import Path; from fairmot.local.daemon import stop; stop(Path(sys.argv[1]))"
        subprocess.run([str(MAIN_PYTHON), "-c", stop, str(state)], check=True, timeout=60)


def _tiny_model(out: Path) -> Path:
    code = (
        "import sys; from pathlib import Path; from fairmot.model import ModelCard, build_model, "
        "save_artifact; card = ModelCard(arch='lite', input_w=160, input_h=96, nID=4); "
        "save_artifact(build_model(card), card, Path(sys.argv[1]), tarball=True)"
    )
    subprocess.run([str(MAIN_PYTHON), "-c", code, str(out)], check=True, timeout=120)
    return out / "model.tar.gz"


def _tiny_video(path: Path, frames: int = 6) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 96))
    for i in range(frames):
        image = np.full((96, 160, 3), 120, np.uint8)
        cv2.rectangle(image, (20 + 5 * i, 20), (40 + 5 * i, 80), (30, 30, 200), -1)
        writer.write(image)
    writer.release()
    return path


@pytest.mark.slow
def test_a_video_streams_through_the_sdk_to_a_local_endpoint(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    url = local_stack["endpoint_url"]
    boto = boto_session(url)
    bucket = next(iter(local_stack["buckets"].values()))
    artifact = _tiny_model(tmp_path / "model")
    boto.client("s3").upload_file(str(artifact), bucket, "models/sdk/model.tar.gz")
    sm = boto.client("sagemaker")
    sm.create_model(
        ModelName="fairmot-dev-model-sdk", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "serve", "ModelDataUrl": f"s3://{bucket}/models/sdk/model.tar.gz"},
    )  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName="fairmot-dev-cfg-sdk",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "fairmot-dev-model-sdk",
                             "InitialInstanceCount": 1, "InstanceType": "ml.g4dn.xlarge"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="fairmot-dev-sdk", EndpointConfigName="fairmot-dev-cfg-sdk")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="fairmot-dev-sdk", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    summary = track_video(
        _tiny_video(tmp_path / "v.mp4"), "fairmot-dev-sdk", boto, tmp_path / "out"
    )
    assert summary["frames"] == 6
    assert (tmp_path / "out" / "tracks.txt").exists()
    assert json.loads((tmp_path / "out" / "tracks.json").read_text())
    sm.delete_endpoint(EndpointName="fairmot-dev-sdk")
