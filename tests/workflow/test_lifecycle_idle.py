"""Idle cost control in local mode: the scheduled cleanup workflow deletes this stack's endpoint
that nobody called for IdleDeleteHours, keeps one tagged fairmot:keep-alive and one with recent
invocations, and publishes `Endpoint Deleted`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator

from fairmot.local.deployer import ACCOUNT_ID, REGION
from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_execution

pytestmark = pytest.mark.slow
SCHEMA = Path(__file__).resolve().parents[2] / "events" / "schemas" / "endpoint-deleted.schema.json"
IDLE_HOURS = 24  # the template's default IdleDeleteHours


def _endpoint(aws: LocalAws, name: str, model_uri: str, tags: list[dict[str, str]]) -> None:
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/fairmot-sagemaker",
        PrimaryContainer={"Image": "serve:local", "ModelDataUrl": model_uri},
    )  # fmt: skip
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name,
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)


def _in_service(aws: LocalAws, names: list[str]) -> None:
    sagemaker = aws.client("sagemaker")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        statuses = [sagemaker.describe_endpoint(EndpointName=n)["EndpointStatus"] for n in names]
        if all(s == "InService" for s in statuses):
            return
        assert "Failed" not in statuses
        time.sleep(0.5)
    raise AssertionError(f"endpoints not InService: {statuses}")


def test_an_idle_endpoint_is_deleted_and_tagged_or_busy_ones_kept(
    pipeline: LocalAws, tiny_model: Path
) -> None:
    from moto.sagemaker.models import sagemaker_backends

    assert pipeline.stack is not None
    key = "training-output/manual/output/model.tar.gz"  # not under models/: no deploy starts
    pipeline.client("s3").upload_file(str(tiny_model), pipeline.stack.bucket, key)
    uri = f"s3://{pipeline.stack.bucket}/{key}"
    idle, kept, busy = "fairmot-dev-idle", "fairmot-dev-kept", "fairmot-dev-busy"
    _endpoint(pipeline, idle, uri, [{"Key": "team", "Value": "cv"}])
    _endpoint(pipeline, kept, uri, [{"Key": "fairmot:keep-alive", "Value": "true"}])
    _endpoint(pipeline, busy, uri, [])
    _in_service(pipeline, [idle, kept, busy])
    # All three have been up for longer than the idle window (moto's clock cannot wait a day).
    for name in (idle, kept, busy):
        endpoint = sagemaker_backends[ACCOUNT_ID][REGION].endpoints[name]
        endpoint.last_modified_time -= timedelta(hours=IDLE_HOURS + 1)
    # What SageMaker publishes for the busy one: invocations half an hour ago.
    pipeline.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[{"MetricName": "Invocations", "Value": 12.0, "Unit": "None",
                     "Timestamp": datetime.now(UTC) - timedelta(minutes=30),
                     "Dimensions": [{"Name": "EndpointName", "Value": busy},
                                    {"Name": "VariantName", "Value": "AllTraffic"}]}],
    )  # fmt: skip
    assert pipeline.endpoints is not None
    idle_server = pipeline.endpoints.servers[idle]

    # What the hourly schedule does: start the cleanup workflow.
    arn = pipeline.client("stepfunctions").start_execution(
        stateMachineArn=pipeline.stack.state_machine("idle"), name="hourly-1", input="{}"
    )["executionArn"]
    assert wait_for_execution(pipeline, arn, timeout_s=120)["status"] == "SUCCEEDED"

    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(event)
    assert event["detail-type"] == "Endpoint Deleted"
    assert (event["detail"]["endpointName"], event["detail"]["idleHours"]) == (idle, IDLE_HOURS)
    sagemaker = pipeline.client("sagemaker")
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName=idle)
    assert idle_server.process.poll() is not None  # its server (the instance) is gone
    for name in (kept, busy):
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
