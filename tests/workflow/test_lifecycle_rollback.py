"""A guarded update in local mode: the endpoint's alarm is in ALARM while a new model bakes, so
the update rolls back, the old model keeps serving and `Deployment Rolled Back` goes out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow

pytestmark = pytest.mark.slow
SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def _deploy(aws: LocalAws, model: Path, key: str, known: int) -> tuple[str, dict]:
    assert aws.stack is not None
    aws.client("s3").upload_file(str(model), aws.stack.bucket, key)
    run = wait_for_workflow(aws, aws.stack.state_machine("deploy"), known=known, timeout_s=240)
    (event,) = consumer_events(aws, result_queue_url(aws.stack.outputs))
    slug = event["detail-type"].lower().replace(" ", "-")
    Draft202012Validator(json.loads((SCHEMAS / f"{slug}.schema.json").read_text())).validate(event)
    return run.status, event


def test_an_alarm_during_the_update_rolls_it_back(pipeline: LocalAws, tiny_model: Path) -> None:
    status, first = _deploy(pipeline, tiny_model, "models/one/model.tar.gz", known=0)
    assert (status, first["detail-type"]) == ("SUCCEEDED", "Model Deployed")
    endpoint = first["detail"]["endpointName"]
    cloudwatch = pipeline.client("cloudwatch")
    alarms = {a["MetricName"]: a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert set(alarms) == {"Invocation5XXErrors", "ModelLatency"}
    cloudwatch.set_alarm_state(
        AlarmName=alarms["Invocation5XXErrors"], StateValue="ALARM", StateReason="5xx answers"
    )

    status, second = _deploy(pipeline, tiny_model, "models/two/model.tar.gz", known=1)
    assert (status, second["detail-type"]) == ("SUCCEEDED", "Deployment Rolled Back")
    detail = second["detail"]
    assert detail["endpointName"] == endpoint
    assert alarms["Invocation5XXErrors"] in detail["reason"]
    assert detail["endpointConfigName"] != first["detail"]["endpointConfigName"]
    described = pipeline.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == first["detail"]["endpointConfigName"]
    # The alarm kept its state when the second deployment put it again, as on AWS.
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[alarms["Invocation5XXErrors"]])[
        "MetricAlarms"
    ]
    assert alarm["StateValue"] == "ALARM"
