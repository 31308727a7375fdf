"""Scenes in the batch workflow's steps: which scene a processing job gets, and the analytics
totals that summary.json hands on to the `Video Processed` event."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import normalise_event
import plan_processing
import pytest
import summarise_results
import validate_video
from functions_support import BUCKET, CONTEXT, EVENTS, Aws, sample, video_bytes

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
VIDEO_KEY = "videos/street/cam1.mp4"
MODEL_URI = f"s3://{BUCKET}/models/synth-small/model.tar.gz"
DEFAULT_SCENE = f"s3://{BUCKET}/scenes/street.yaml"


def planned(aws: Aws, meta: dict[str, str], **detail: str) -> dict[str, Any]:
    """Upload the video, start batch with a request event carrying `detail`, plan the job."""
    aws.s3.put_object(Bucket=BUCKET, Key=VIDEO_KEY, Body=video_bytes(2048))
    event = sample("video-processing-requested")
    event["detail"].update(modelUri=MODEL_URI, **detail)
    jsonschema.validate(event, schema("video-processing-requested"))
    start = normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)
    state = {**start, **validate_video.handler(start, CONTEXT)}
    return plan_processing.handler(
        {"request": state["request"], "video": state["video"], "meta": meta}, CONTEXT
    )


def schema(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "schemas" / f"{name}.schema.json").read_text())


def scene_input(plan: dict[str, Any]) -> dict[str, Any] | None:
    inputs = {i["InputName"]: i["S3Input"] for i in plan["request"]["ProcessingInputs"]}
    return inputs.get("scene")


def test_a_scene_beside_the_video_wins_over_the_default(aws: Aws, meta: dict[str, str]) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="videos/street/cam1.scene.yaml", Body=b"lines: {}\n")
    plan = planned(aws, meta, sceneUri=DEFAULT_SCENE)
    own = f"s3://{BUCKET}/videos/street/cam1.scene.yaml"
    assert plan["sceneUri"] == own
    scene = scene_input(plan)
    assert scene is not None and scene["S3Uri"] == own
    assert scene["LocalPath"] == "/opt/ml/processing/input/scene"
    aws.sagemaker.create_processing_job(**plan["request"])  # a request SageMaker accepts


def test_the_request_events_default_scene_else_none(aws: Aws, meta: dict[str, str]) -> None:
    scene = scene_input(planned(aws, meta, sceneUri=DEFAULT_SCENE))
    assert scene is not None and scene["S3Uri"] == DEFAULT_SCENE
    plain = planned(aws, meta)
    assert plain["sceneUri"] is None and scene_input(plain) is None


def test_a_default_scene_in_another_bucket_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(Exception, match="other-bucket"):
        planned(aws, meta, sceneUri="s3://other-bucket/scene.yaml")


def test_analytics_totals_reach_the_video_processed_event(aws: Aws, meta: dict[str, str]) -> None:
    prefix = "results/street/cam1/"
    analytics = {
        "lines": {"door": {"in": 3, "out": 2}},
        "zones": {"shelf": {"entries": 5, "exits": 4, "max_occupancy": 3}},
        "distance_px": 812.5,
        "distance_m": 23.1,
    }
    summary = {"frames": 50, "fps": 12.5, "tracks": 7, "video": "cam1.mp4", "analytics": analytics}
    aws.s3.put_object(Bucket=BUCKET, Key=prefix + "summary.json", Body=json.dumps(summary).encode())
    results = {
        "prefix": f"s3://{BUCKET}/{prefix}",
        "summaryUri": f"s3://{BUCKET}/{prefix}summary.json",
        "manifestUri": f"s3://{BUCKET}/results/street/j.manifest.json",
    }
    (out,) = summarise_results.handler(
        {"videos": [{"results": results}], "processingJobName": "j", "meta": meta}, CONTEXT
    )["reports"]
    assert out["ok"] is True
    assert out["summary"]["analytics"] == analytics
    event = {
        "source": "fairmot.pipeline",
        "detail-type": "Video Processed",
        "detail": {
            **meta,
            "video": f"s3://{BUCKET}/{VIDEO_KEY}",
            "videoVersionId": "3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
            "model": MODEL_URI,
            "processingJobName": "j",
            "outputs": out["outputs"],
            "summary": out["summary"],
        },
    }
    jsonschema.validate(event, schema("video-processed"))
    event["detail"]["summary"]["analytics"]["lines"]["door"]["in"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event, schema("video-processed"))
