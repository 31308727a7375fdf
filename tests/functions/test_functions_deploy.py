"""Deploy steps on moto: normalise, plan (duplicates), create or update, bounded wait."""

from __future__ import annotations

from typing import Any

import boto3
import check_endpoint
import deploy_endpoint
import normalise_event
import plan_deployment
import pytest
from errors import (
    EndpointBusyError,
    EndpointFailedError,
    EndpointTimeoutError,
    InvalidEventError,
    InvalidNameError,
)
from functions_support import BUCKET, CONTEXT, Aws, s3_created, sample

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
MODEL_KEY = "models/synth-small/model.tar.gz"


def start(
    aws: Aws, meta: dict[str, str], event: dict[str, Any] | None = None, body: bytes = b"model"
) -> dict[str, Any]:
    aws.s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=body)
    event = event or s3_created(aws.s3, MODEL_KEY)
    return normalise_event.handler({"workflow": "deploy", "event": event, "meta": meta}, CONTEXT)


def plan(aws: Aws, meta: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    return plan_deployment.handler(start(aws, meta, **kwargs), CONTEXT)


def create_all(aws: Aws, planned: dict[str, Any]) -> None:
    aws.sagemaker.create_model(**planned["model"])
    aws.sagemaker.create_endpoint_config(**planned["endpointConfig"])


def handler_payload(planned: dict[str, Any], meta: dict[str, str]) -> dict[str, Any]:
    """What the deploy state machine hands DeployEndpoint (plan fields, as in deploy.asl.json)."""
    return {
        "endpointName": planned["endpointName"],
        "endpointConfigName": planned["endpointConfig"]["EndpointConfigName"],
        "modelUri": planned["modelUri"], "alarms": planned["alarms"],
        "deploymentConfig": planned["deploymentConfig"], "meta": meta,
    }  # fmt: skip


def test_requests_accept_model_events(aws: Aws, meta: dict[str, str]) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=b"model")
    requested = start(aws, meta, event=sample("deployment-requested"))
    assert requested["request"]["model"]["key"] == MODEL_KEY
    assert requested["meta"]["correlationId"] == "order-4712"
    succeeded = {
        "id": "e-9", "detail-type": "Training Succeeded", "source": "fairmot.pipeline",
        "detail": {"model": {"uri": f"s3://{BUCKET}/{MODEL_KEY}"}, "correlationId": "train-7"},
    }  # fmt: skip
    chained = start(aws, meta, event=succeeded)
    assert chained["meta"]["correlationId"] == "train-7"  # one id across training and deploy
    with pytest.raises(InvalidEventError):
        start(aws, meta, event=sample("training-requested"))


def test_plan_names_model_and_config_from_the_artifact(aws: Aws, meta: dict[str, str]) -> None:
    planned = plan(aws, meta)
    assert (planned["duplicate"], planned["modelExists"], planned["endpointConfigExists"]) == (
        False, False, False,
    )  # fmt: skip
    assert planned["model"]["ModelName"].startswith("fairmot-test-model-synth-small-")
    assert planned["model"]["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/{MODEL_KEY}"
    variant = planned["endpointConfig"]["ProductionVariants"][0]
    assert variant["ModelName"] == planned["model"]["ModelName"]
    assert (planned["endpointName"], planned["pollSeconds"]) == ("fairmot-test-tracker", 1)


def test_duplicate_event_is_a_no_op(aws: Aws, meta: dict[str, str]) -> None:
    planned = plan(aws, meta)
    create_all(aws, planned)
    half = plan(aws, meta)  # a retry after a partial run skips what exists
    assert (half["duplicate"], half["modelExists"], half["endpointConfigExists"]) == (
        False,
        True,
        True,
    )
    deploy_endpoint.deploy(
        aws.sagemaker, "fairmot-test-tracker", planned["endpointConfig"]["EndpointConfigName"],
        planned["modelUri"], deploy_endpoint.Meta(**meta),
    )  # fmt: skip
    assert plan(aws, meta)["duplicate"] is True


def test_new_endpoint_is_created_then_polled_until_ready(aws: Aws, meta: dict[str, str]) -> None:
    planned = plan(aws, meta)
    create_all(aws, planned)
    config = planned["endpointConfig"]["EndpointConfigName"]
    payload = handler_payload(planned, meta)
    deployed = deploy_endpoint.handler(payload, CONTEXT)
    assert (deployed["action"], deployed["polls"], deployed["ready"]) == ("create", 0, False)
    checked = check_endpoint.handler(
        {"deployed": deployed, "endpointConfigName": config, "meta": meta}, CONTEXT
    )
    assert (checked["ready"], checked["status"], checked["polls"]) == (True, "InService", 1)
    assert checked["endpointArn"] == deployed["endpointArn"]


def test_existing_endpoint_takes_the_update_path(aws: Aws, meta: dict[str, str]) -> None:
    first = plan(aws, meta)
    create_all(aws, first)
    aws.sagemaker.create_endpoint(
        EndpointName="fairmot-test-tracker",
        EndpointConfigName=first["endpointConfig"]["EndpointConfigName"],
    )
    second = plan(aws, meta, body=b"a better model")  # new content, new etag
    assert second["duplicate"] is False
    assert second["model"]["ModelName"] != first["model"]["ModelName"]
    existing = aws.sagemaker.describe_endpoint(EndpointName="fairmot-test-tracker")
    assert deploy_endpoint.choose_action(existing) == "update"
    assert deploy_endpoint.choose_action(None) == "create"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("Updating", EndpointBusyError),
        ("Creating", EndpointBusyError),
        ("Failed", EndpointFailedError),
    ],
)
def test_endpoint_that_cannot_take_an_update(status: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        deploy_endpoint.choose_action({"EndpointName": "e", "EndpointStatus": status})


def test_wait_loop_is_bounded_and_reports_failures() -> None:
    deployed = {"endpointName": "e", "endpointArn": "arn:e", "action": "update", "polls": 1}
    waiting = check_endpoint.assess(deployed, {"EndpointStatus": "Updating"}, "cfg-2", max_polls=3)
    assert (waiting["ready"], waiting["polls"]) == (False, 2)
    with pytest.raises(EndpointTimeoutError, match="after 3 polls"):
        check_endpoint.assess(waiting, {"EndpointStatus": "Updating"}, "cfg-2", max_polls=3)
    rolled_back = check_endpoint.assess(
        deployed,
        {"EndpointStatus": "InService", "EndpointConfigName": "cfg-1",
         "FailureReason": "alarm e-5xx in ALARM"},
        "cfg-2", 3,
    )  # fmt: skip
    assert (rolled_back["ready"], rolled_back["rolledBack"]) == (False, True)
    assert "serves cfg-1 again: alarm e-5xx in ALARM" in rolled_back["reason"]
    with pytest.raises(EndpointFailedError, match="no capacity"):
        check_endpoint.assess(
            deployed, {"EndpointStatus": "Failed", "FailureReason": "no capacity"}, "c", 3
        )


def requested_endpoint(aws: Aws, meta: dict[str, str], endpoint_name: str) -> dict[str, Any]:
    event = sample("deployment-requested")
    event["detail"]["endpointName"] = endpoint_name
    return plan(aws, meta, event=event)


def test_requested_endpoint_must_be_one_the_stack_may_manage(
    aws: Aws, meta: dict[str, str]
) -> None:
    assert requested_endpoint(aws, meta, "fairmot-test-canary")["endpointName"] == (
        "fairmot-test-canary"
    )
    # The functions' and state machine's policies cover only the stack's names: fail clearly.
    with pytest.raises(InvalidNameError, match="outside this stack's names"):
        requested_endpoint(aws, meta, "someone-elses-endpoint")


def test_deploy_does_not_ask_twice_for_the_config_already_deployed(
    aws: Aws, meta: dict[str, str]
) -> None:
    planned = plan(aws, meta)
    create_all(aws, planned)
    config = planned["endpointConfig"]["EndpointConfigName"]
    payload = handler_payload(planned, meta)
    first = deploy_endpoint.handler(payload, CONTEXT)
    # A retried DeployEndpoint (or a redelivered event) finds the endpoint on this config:
    # no UpdateEndpoint to the same config, the wait loop just confirms it.
    again = deploy_endpoint.handler(payload, CONTEXT)
    assert (again["action"], again["endpointArn"]) == ("update", first["endpointArn"])
    checked = check_endpoint.handler(
        {"deployed": again, "endpointConfigName": config, "meta": meta}, CONTEXT
    )
    assert checked["ready"] is True


def test_an_update_in_progress_to_the_same_config_is_a_duplicate() -> None:
    updating = {
        "EndpointStatus": "Updating",
        "EndpointConfigName": "cfg-old",
        "PendingDeploymentSummary": {"EndpointConfigName": "cfg-new"},
    }
    assert plan_deployment.deploys_config(updating, "cfg-new") is True
    assert plan_deployment.deploys_config(updating, "cfg-other") is False
    assert (
        plan_deployment.deploys_config({**updating, "EndpointStatus": "Failed"}, "cfg-new") is False
    )


def test_gpu_endpoints_name_the_ami_of_the_images_cuda(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = plan(aws, meta)
    variant = planned["endpointConfig"]["ProductionVariants"][0]
    assert variant["InferenceAmiVersion"] == plan_deployment.GPU_INFERENCE_AMI
    assert planned["model"]["PrimaryContainer"]["Environment"]["FAIRMOT_REQUIRE_CUDA"] == "1"
    create_all(aws, planned)  # the request check passes it (it refuses a GPU variant without)

    monkeypatch.setenv("SERVING_INSTANCE_TYPE", "ml.m5.xlarge")
    cpu = plan(aws, meta)
    assert "InferenceAmiVersion" not in cpu["endpointConfig"]["ProductionVariants"][0]
    assert "FAIRMOT_REQUIRE_CUDA" not in cpu["model"]["PrimaryContainer"]["Environment"]


def test_a_failed_rollback_ends_the_wait_at_once() -> None:
    deployed = {"endpointName": "fairmot-test-tracker", "polls": 0}
    endpoint = {"EndpointStatus": "UpdateRollbackFailed", "EndpointConfigName": "old",
                "FailureReason": "rollback failed"}  # fmt: skip
    with pytest.raises(EndpointFailedError, match="UpdateRollbackFailed: rollback failed"):
        check_endpoint.assess(deployed, endpoint, "new", max_polls=120)


def test_an_approved_package_event_deploys_its_artifact(aws: Aws, meta: dict[str, str]) -> None:
    event = sample("sagemaker-model-package-approved")
    container = event["detail"]["InferenceSpecification"]["Containers"][0]
    aws.s3.put_object(Bucket=BUCKET, Key=container["ModelDataUrl"].split("/", 3)[3], Body=b"m")
    started = normalise_event.handler({"workflow": "deploy", "event": event, "meta": meta}, CONTEXT)
    request = started["request"]
    assert f"s3://{BUCKET}/{request['model']['key']}" == container["ModelDataUrl"]
    assert request["modelPackageArn"] == event["detail"]["ModelPackageArn"]
    event["detail"]["ModelApprovalStatus"] = "Rejected"
    with pytest.raises(InvalidEventError, match="Rejected, not Approved"):
        normalise_event.handler({"workflow": "deploy", "event": event, "meta": meta}, CONTEXT)


def test_an_update_is_blue_green_with_rollback_on_the_endpoint_alarms(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    default = plan(aws, meta)["deploymentConfig"]["BlueGreenUpdatePolicy"]
    assert default["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE",
                                                      "WaitIntervalInSeconds": 300}  # fmt: skip
    monkeypatch.setenv("DEPLOYMENT_TRAFFIC_ROUTING", "CANARY")
    planned = plan(aws, meta, body=b"a canary")
    routing = planned["deploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert (routing["Type"], routing["CanarySize"]) == (
        "CANARY", {"Type": "CAPACITY_PERCENT", "Value": 50},
    )  # fmt: skip
    names = [a["AlarmName"] for a in planned["alarms"]]
    assert names == [
        "fairmot-test-fairmot-test-tracker-5xx",
        "fairmot-test-fairmot-test-tracker-latency",
    ]
    assert planned["deploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": n} for n in names
    ]
    create_all(aws, planned)
    deploy_endpoint.handler(handler_payload(planned, meta), CONTEXT)
    alarms = boto3.client("cloudwatch", region_name="us-east-1").describe_alarms()["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == names
    latency = next(a for a in alarms if a["MetricName"] == "ModelLatency")
    assert latency["Threshold"] == 1000 * 1000.0  # microseconds
    monkeypatch.setenv("DEPLOYMENT_TRAFFIC_ROUTING", "LINEAR")
    linear = plan(aws, meta, body=b"another model")
    routing = linear["deploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["LinearStepSize"] == {"Type": "CAPACITY_PERCENT", "Value": 50}
