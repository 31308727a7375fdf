"""The deploy and batch state machines from the project's files, run by moto: a real `serve`
process behind invoke_endpoint, a real `process` job, results in S3 and events on the bus."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow
from tests.workflow.conftest import register_latest_model

pytestmark = pytest.mark.slow


def _deploy(aws: LocalAws, model: Path, key: str, known: int) -> dict[str, object]:
    assert aws.stack is not None
    aws.client("s3").upload_file(str(model), aws.stack.bucket, key)
    run = wait_for_workflow(aws, aws.stack.state_machine("deploy"), known=known, timeout_s=240)
    assert run.status == "SUCCEEDED", run.failure
    events = consumer_events(aws, result_queue_url(aws.stack.outputs))
    assert [e["detail-type"] for e in events] == ["Model Deployed"]
    return dict(events[0]["detail"])


def test_model_upload_deploys_then_a_second_model_updates_the_endpoint(
    pipeline: LocalAws, tiny_model: Path, tiny_video: Path
) -> None:
    import cv2

    first = _deploy(pipeline, tiny_model, "models/one/model.tar.gz", known=0)
    assert first["action"] == "create"
    endpoint = str(first["endpointName"])
    sagemaker = pipeline.client("sagemaker")
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"

    capture = cv2.VideoCapture(str(tiny_video))
    ok, frame = capture.read()
    capture.release()
    assert ok
    jpeg = base64.b64encode(cv2.imencode(".jpg", frame)[1].tobytes()).decode()
    body = {"frame_id": 0, "frame_data": jpeg, "frame_w": 160, "frame_h": 96, "batch_size": 1}
    answer = pipeline.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=json.dumps(body)
    )
    payload = json.loads(answer["Body"].read())
    assert payload["frames"][0]["frame_id"] == 0
    assert isinstance(payload["frames"][0]["tracks"], list)

    with pytest.raises(ClientError, match="ModelError"):
        pipeline.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Body=b'{"frame_id": 0}'
        )

    second = _deploy(pipeline, tiny_model, "models/two/model.tar.gz", known=1)
    assert second["action"] == "update"
    assert second["endpointName"] == endpoint
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == second["endpointConfigName"]
    assert described["EndpointConfigName"] != first["endpointConfigName"]

    assert pipeline.endpoints is not None
    server = pipeline.endpoints.servers[endpoint]
    sagemaker.delete_endpoint(EndpointName=endpoint)
    assert server.process.poll() is not None
    with pytest.raises(ClientError):
        pipeline.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Body=json.dumps(body)
        )


def test_video_upload_is_processed_into_results(
    pipeline: LocalAws, tiny_model: Path, tiny_video: Path
) -> None:
    assert pipeline.stack is not None
    register_latest_model(pipeline, tiny_model)
    s3 = pipeline.client("s3")
    s3.upload_file(str(tiny_video), pipeline.stack.bucket, "videos/cam1/clip.mp4")
    run = wait_for_workflow(pipeline, pipeline.stack.state_machine("batch"), known=0, timeout_s=300)
    assert run.status == "SUCCEEDED", run.failure
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Video Processed"
    prefix = event["detail"]["outputs"]["prefix"].split("/", 3)[3]
    listed = s3.list_objects_v2(Bucket=pipeline.stack.bucket, Prefix=prefix)["Contents"]
    names = {o["Key"].rsplit("/", 1)[-1] for o in listed}
    assert {"annotated.mp4", "tracks.txt", "tracks.json", "summary.json"} <= names
    summary = json.loads(
        s3.get_object(Bucket=pipeline.stack.bucket, Key=prefix + "summary.json")["Body"].read()
    )
    assert summary["frames"] == 12


def test_a_corrupt_video_publishes_video_processing_failed(
    pipeline: LocalAws, tiny_model: Path
) -> None:
    assert pipeline.stack is not None
    register_latest_model(pipeline, tiny_model)
    pipeline.client("s3").put_object(
        Bucket=pipeline.stack.bucket, Key="videos/cam1/broken.mp4", Body=b"\x00not a video" * 64
    )
    run = wait_for_workflow(pipeline, pipeline.stack.state_machine("batch"), known=0, timeout_s=300)
    assert run.status == "FAILED"
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Video Processing Failed"
    assert event["detail"]["error"] == "VideoInvalidError"  # refused before any job started
    assert "not a video" in event["detail"]["reason"]
