"""events/: schemas are valid draft 2020-12, samples validate, and the template's rules route
each sample to the right workflow (matched with moto's EventBridge pattern engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode
from jsonschema import Draft202012Validator
from moto.events.models import EventPattern

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
SCHEMAS = sorted((EVENTS / "schemas").glob("*.schema.json"))
PUBLISHED = [
    "Training Succeeded", "Training Failed", "Model Deployed", "Deployment Failed",
    "Video Processed", "Video Processing Failed", "Deployment Rolled Back", "Endpoint Deleted",
]  # fmt: skip
REQUESTS = ["Training Requested", "Deployment Requested", "Video Processing Requested"]


def schema_for(detail_type: str) -> dict[str, Any]:
    return json.loads(
        (EVENTS / "schemas" / f"{detail_type.lower().replace(' ', '-')}.schema.json").read_text()
    )


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "samples" / f"{name}.json").read_text())


def resolve(node: Any, bucket: str) -> Any:
    """The rule pattern with `!Ref DataBucket` replaced by the samples' bucket."""
    if isinstance(node, dict):
        if node == {"Ref": "DataBucket"}:
            return bucket
        return {k: resolve(v, bucket) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, bucket) for v in node]
    return node


def rules() -> dict[str, EventPattern]:
    """Every rule's pattern by the rule's logical id: hand-written rules and the EventBridgeRule
    `Events:` of state machines (SAM names those rules <StateMachine><Event>)."""
    template, _ = decode(str(REPO / "template.yaml"))
    bucket = sample("s3-video-created")["detail"]["bucket"]["name"]
    patterns = {
        name: r["Properties"]["EventPattern"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Events::Rule"
    }
    for name, r in template["Resources"].items():
        for event, source in r.get("Properties", {}).get("Events", {}).items():
            if source["Type"] == "EventBridgeRule":
                patterns[name + event] = source["Properties"]["Pattern"]
    return {
        name: EventPattern.load(json.dumps(resolve(pattern, bucket)))
        for name, pattern in patterns.items()
    }


def matching(event: dict[str, Any]) -> set[str]:
    return {name for name, pattern in rules().items() if pattern.matches_event(event)}


def test_every_event_has_a_valid_schema() -> None:
    assert {json.loads(p.read_text())["title"] for p in SCHEMAS} == set(PUBLISHED + REQUESTS)
    for path in SCHEMAS:
        Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("detail_type", REQUESTS)
def test_request_samples_validate(detail_type: str) -> None:
    event = sample(detail_type.lower().replace(" ", "-"))
    Draft202012Validator(schema_for(detail_type)).validate(event)


def test_request_schema_rejects_a_non_video() -> None:
    event = sample("video-processing-requested")
    event["detail"]["videoUri"] = "s3://b/videos/notes.txt"
    assert not Draft202012Validator(schema_for("Video Processing Requested")).is_valid(event)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("s3-dataset-manifest-created", "TrainingStateMachineDatasetUploaded"),
        ("s3-model-created", "DeployStateMachineModelUploaded"),
        ("s3-video-created", "VideoUploadedRule"),
        ("training-requested", "TrainingStateMachineTrainingRequested"),
        ("deployment-requested", "DeployStateMachineDeploymentRequested"),
        ("video-processing-requested", "VideoProcessingRequestedRule"),
    ],
)
def test_each_sample_starts_exactly_one_workflow(name: str, rule: str) -> None:
    assert matching(sample(name)) == {rule}


@pytest.mark.parametrize(
    "key",
    [
        "datasets/x/SYN-01/img1/000001.jpg",
        "models/x/model.json",
        "videos/x/notes.txt",
        "results/a/annotated.mp4",
    ],
)
def test_other_uploads_start_nothing(key: str) -> None:
    event = sample("s3-video-created")
    event["detail"]["object"]["key"] = key
    assert matching(event) == set()


def test_upload_to_another_bucket_starts_nothing() -> None:
    event = sample("s3-video-created")
    event["detail"]["bucket"]["name"] = "someone-else"
    assert matching(event) == set()


def test_training_succeeded_deploys_only_when_asked() -> None:
    event = {
        "source": "fairmot.pipeline",
        "detail-type": "Training Succeeded",
        "detail": {"deploy": True},
    }
    assert matching(event) == {"DeployStateMachineDeployAfterTraining", "ResultsToConsumerRule"}
    event["detail"]["deploy"] = False
    assert matching(event) == {"ResultsToConsumerRule"}


@pytest.mark.parametrize("detail_type", PUBLISHED)
def test_every_result_reaches_the_example_consumer(detail_type: str) -> None:
    event = {"source": "fairmot.pipeline", "detail-type": detail_type, "detail": {"deploy": False}}
    assert "ResultsToConsumerRule" in matching(event)
