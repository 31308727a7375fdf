"""A SageMaker Python SDK predictor for the tracking endpoint, and a whole-video helper.

In SDK 3 the predictor is `sagemaker.core.resources.Endpoint` with a serializer and a
deserializer. Both speak the `serve` container's frame protocol (fairmot.sagemaker.protocol):
JSON frame requests (base64 JPEG, stream id, frame_w/frame_h/frame_rate on frame 0) or a raw JPEG
with `stream_id=...,frame_id=...` custom attributes (`jpeg_predictor`, `invoke_jpeg`), answered
by `{"stream_id", "frames"}`.
`EndpointTransport` puts that predictor under fairmot.client's stream loop, which numbers frames
and keeps the stream on one instance with a stateful session (SessionId NEW_SESSION, then the
id the endpoint returns), so `track_video` writes the same files a processing job writes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fairmot.client import Answer, EndpointError, session_id_from_header, stream_video
from fairmot.sagemaker.protocol import JSON_TYPES
from fairmot.sdk.contracts import VARIANT_NAME, parse_s3_uri, validate_name

JSON_TYPE = next(iter(JSON_TYPES))


def _read(stream: Any) -> bytes:
    data = stream.read() if hasattr(stream, "read") else stream
    return data.encode() if isinstance(data, str) else bytes(data)


def frame_serializer() -> Any:
    """Serializes a frame request (a dict, or JSON bytes already encoded) to the JSON body."""
    from sagemaker.core.serializers.base import BaseSerializer

    class FrameSerializer(BaseSerializer):
        CONTENT_TYPE = JSON_TYPE

        def serialize(self, data: Any) -> bytes:
            if isinstance(data, bytes | bytearray):
                return bytes(data)
            if not isinstance(data, dict):
                raise TypeError(
                    f"a frame request is a dict or JSON bytes, not {type(data).__name__}"
                )
            return json.dumps(data).encode()

    return FrameSerializer()


def tracks_deserializer() -> Any:
    """Deserializes the endpoint's answer to `{"stream_id", "frames": [{"frame_id", "tracks"}]}`."""
    from sagemaker.core.deserializers.base import BaseDeserializer

    class TracksDeserializer(BaseDeserializer):
        ACCEPT = (JSON_TYPE,)

        def deserialize(self, stream: Any, content_type: str) -> dict[str, Any]:
            raw = _read(stream)
            try:
                body = json.loads(raw)
            except ValueError:
                raise EndpointError(f"the endpoint answered non-JSON: {raw[:200]!r}") from None
            if not isinstance(body, dict) or not ("frames" in body or body.get("closed")):
                raise EndpointError(f"the endpoint answered without frames: {raw[:200]!r}")
            return body

    return TracksDeserializer()


def jpeg_serializer() -> Any:
    """Serializes one BGR frame (numpy) to a raw JPEG body, the protocol's image form."""
    from sagemaker.core.serializers.base import BaseSerializer

    from fairmot.client import encode_frame

    class JpegSerializer(BaseSerializer):
        CONTENT_TYPE = "image/jpeg"

        def serialize(self, data: Any) -> bytes:
            return base64.b64decode(encode_frame(data))

    return JpegSerializer()


def jpeg_predictor(endpoint_name: str) -> Any:
    """The SDK's `Endpoint` for raw JPEG frames; see `invoke_jpeg` for the stream attributes."""
    from sagemaker.core.resources import Endpoint

    return Endpoint(
        endpoint_name=endpoint_name,
        serializer=jpeg_serializer(),
        deserializer=tracks_deserializer(),
    )


def invoke_jpeg(
    endpoint: Any, frame: Any, boto_session: Any, *, stream_id: str, frame_id: int
) -> dict[str, Any]:
    """Track one BGR frame sent as a raw JPEG; stream and frame number travel in the custom
    attributes (`stream_id=...,frame_id=...`); frame_id 0 starts the stream."""
    answer = endpoint.invoke(
        body=frame, content_type="image/jpeg", accept=JSON_TYPE,
        custom_attributes=f"stream_id={stream_id},frame_id={frame_id}",
        session=boto_session, region=boto_session.region_name,
    )  # fmt: skip
    body: dict[str, Any] = answer.body
    return body


def predictor(endpoint_name: str) -> Any:
    """The SDK's `Endpoint` for `endpoint_name`, speaking the frame protocol."""
    from sagemaker.core.resources import Endpoint

    return Endpoint(
        endpoint_name=endpoint_name,
        serializer=frame_serializer(),
        deserializer=tracks_deserializer(),
    )


class EndpointTransport:
    """fairmot.client's Transport over the SDK predictor (stateful sessions included)."""

    def __init__(self, endpoint: Any, boto_session: Any) -> None:
        self.endpoint = endpoint
        self.boto_session = boto_session

    def invoke(self, body: bytes, session: str | None) -> Answer:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"session_id": session} if session else {}
        try:
            answer = self.endpoint.invoke(
                body=body, content_type=JSON_TYPE, accept=JSON_TYPE,
                session=self.boto_session, region=self.boto_session.region_name, **extra,
            )  # fmt: skip
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise EndpointError(f"{self.endpoint.endpoint_name}: {error}", status) from None
        except BotoCoreError as error:
            raise EndpointError(f"{self.endpoint.endpoint_name}: {error}") from None
        new_session = answer.new_session_id if isinstance(answer.new_session_id, str) else None
        return Answer(answer.body, session_id_from_header(new_session))


def deploy(
    boto: Any,
    model_uri: str,
    endpoint_name: str,
    *,
    image_uri: str,
    role_arn: str,
    instance_type: str = "ml.g4dn.xlarge",
    instance_count: int = 1,
    wait_s: int = 900,
) -> str:
    """Create the model, its endpoint config and the endpoint (names checked as the deploy
    Lambda checks them), wait until it is InService; return the endpoint name."""
    parse_s3_uri(model_uri)
    model_name = validate_name(f"{endpoint_name}-model")
    config_name = validate_name(f"{endpoint_name}-cfg")
    sm = boto.client("sagemaker")
    sm.create_model(
        ModelName=model_name,
        ExecutionRoleArn=role_arn,
        PrimaryContainer={
            "Image": image_uri,
            "ModelDataUrl": model_uri,
            "Environment": {"FAIRMOT_MODEL_URI": model_uri},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": VARIANT_NAME,
                "ModelName": model_name,
                "InitialInstanceCount": instance_count,
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint(EndpointName=validate_name(endpoint_name), EndpointConfigName=config_name)
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint_name, WaiterConfig={"Delay": 2, "MaxAttempts": max(1, wait_s // 2)}
    )
    return endpoint_name


def delete(boto: Any, endpoint_name: str) -> None:
    """Delete the endpoint, its config and its model (what `deploy` created)."""
    sm = boto.client("sagemaker")
    sm.delete_endpoint(EndpointName=endpoint_name)
    sm.delete_endpoint_config(EndpointConfigName=f"{endpoint_name}-cfg")
    sm.delete_model(ModelName=f"{endpoint_name}-model")


def track_video(
    video: str | Path,
    endpoint_name: str,
    boto_session: Any,
    out_dir: str | Path,
    *,
    batch_size: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Stream every frame of `video` to the endpoint; write annotated.mp4, tracks.txt,
    tracks.json and summary.json into `out_dir`; return the summary."""
    transport = EndpointTransport(predictor(endpoint_name), boto_session)
    return stream_video(video, transport, out_dir, batch_size=batch_size, progress=progress)
