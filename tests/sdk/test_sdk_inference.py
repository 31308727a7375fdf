"""The SDK predictor speaks the endpoint's frame protocol, and streams a video to local mode."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sdk_support import tiny_model, tiny_video

from fairmot.client import EndpointError, StreamSession
from fairmot.sagemaker.protocol import NEW_SESSION
from fairmot.sdk.inference import (
    EndpointTransport,
    delete,
    deploy,
    invoke_jpeg,
    jpeg_predictor,
    predictor,
    track_video,
    tracks_deserializer,
)
from fairmot.sdk.session import boto_session


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


def test_a_raw_jpeg_frame_carries_its_stream_in_the_custom_attributes() -> None:
    from fairmot.sagemaker.protocol import parse_custom_attributes

    boto = boto_session("http://127.0.0.1:9")
    sent: dict[str, Any] = {}

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.update(params)
        raise Sent()

    boto.events.register("provide-client-params.sagemaker-runtime.InvokeEndpoint", record)
    frame = np.full((48, 64, 3), 90, np.uint8)
    with pytest.raises(Sent):
        invoke_jpeg(
            jpeg_predictor("fairmot-dev-tracker"), frame, boto, stream_id="cam1", frame_id=3
        )
    assert sent["ContentType"] == "image/jpeg"
    assert parse_custom_attributes(sent["CustomAttributes"]) == {
        "stream_id": "cam1",
        "frame_id": "3",
    }
    assert cv2.imdecode(np.frombuffer(sent["Body"], np.uint8), 1).shape == frame.shape


def test_an_answer_without_frames_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError, match="without frames"):
        tracks_deserializer().deserialize(b'{"error": "bad frame"}', "application/json")
    with pytest.raises(EndpointError, match="non-JSON"):
        tracks_deserializer().deserialize(b"<html>", "text/html")


@pytest.mark.slow
def test_a_video_streams_through_the_sdk_to_a_local_endpoint(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    url = local_stack["endpoint_url"]
    boto = boto_session(url)
    bucket = local_stack["outputs"]["DataBucketName"]
    artifact = tiny_model(tmp_path / "model")
    boto.client("s3").upload_file(str(artifact), bucket, "notebooks/sdk/model.tar.gz")
    endpoint = deploy(
        boto, f"s3://{bucket}/notebooks/sdk/model.tar.gz", "fairmot-dev-sdk",
        image_uri="serve", role_arn=local_stack["outputs"]["SageMakerExecutionRoleArn"],
    )  # fmt: skip
    summary = track_video(tiny_video(tmp_path / "v.mp4"), endpoint, boto, tmp_path / "out")
    assert summary["frames"] == 6
    assert (tmp_path / "out" / "tracks.txt").exists()
    assert json.loads((tmp_path / "out" / "tracks.json").read_text())
    delete(boto, endpoint)
    with pytest.raises(ClientError):
        boto.client("sagemaker").describe_endpoint(EndpointName=endpoint)
