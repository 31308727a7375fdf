"""Lifecycle steps on moto: autoscaling registration and the idle-endpoint cleanup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import idle_endpoints
import plan_deployment
import pytest
import scale_endpoint
from functions_support import ACCOUNT, BUCKET, CONTEXT, REGION, Aws, s3_created

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
MODEL_KEY = "models/synth-small/model.tar.gz"


def planned(aws: Aws, meta: dict[str, str]) -> dict[str, Any]:
    import normalise_event

    aws.s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=b"model")
    started = normalise_event.handler(
        {"workflow": "deploy", "event": s3_created(aws.s3, MODEL_KEY), "meta": meta}, CONTEXT
    )
    result: dict[str, Any] = plan_deployment.handler(started, CONTEXT)
    return result


def test_the_variant_scales_on_invocations_per_instance(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCALING_MAX_INSTANCES", "4")
    monkeypatch.setenv("SCALING_INVOCATIONS_PER_INSTANCE", "300")
    plan = planned(aws, meta)
    out = scale_endpoint.handler({"scaling": plan["scaling"], "meta": meta}, CONTEXT)
    resource = "endpoint/fairmot-test-tracker/variant/AllTraffic"
    assert (out["resourceId"], out["minCapacity"], out["maxCapacity"]) == (resource, 1, 4)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert (target["ResourceId"], target["MaxCapacity"]) == (resource, 4)
    (policy,) = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
        "ScalingPolicies"
    ]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 300.0
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )
    assert config["ScaleInCooldown"] > config["ScaleOutCooldown"]
    # A redeploy registers again: idempotent, still one target and one policy.
    scale_endpoint.handler({"scaling": plan["scaling"], "meta": meta}, CONTEXT)
    assert (
        len(autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"])
        == 1
    )


def _endpoint(aws: Aws, name: str, tags: list[dict[str, str]]) -> None:
    aws.sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        PrimaryContainer={"Image": "serve", "ModelDataUrl": f"s3://{BUCKET}/{MODEL_KEY}"},
    )  # fmt: skip
    aws.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name,
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    aws.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)


def test_idle_endpoints_are_this_stacks_untagged_uncalled_ones(aws: Aws) -> None:
    for name, tags in [
        ("fairmot-test-idle", []),
        ("fairmot-test-kept", [{"Key": "fairmot:keep-alive", "Value": "true"}]),
        ("fairmot-test-busy", []),
        ("someone-elses", []),
    ]:
        _endpoint(aws, name, tags)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[{"MetricName": "Invocations", "Value": 3.0, "Timestamp": now - timedelta(hours=2),
                     "Dimensions": [{"Name": "EndpointName", "Value": "fairmot-test-busy"},
                                    {"Name": "VariantName", "Value": "AllTraffic"}]}],
    )  # fmt: skip
    # Seen from a day later: all four have been up for longer than the window.
    later = now + timedelta(hours=25)
    found = idle_endpoints.idle_endpoints(aws.sagemaker, cloudwatch, 24, later)
    assert [e["endpointName"] for e in found] == ["fairmot-test-idle", "fairmot-test-busy"]
    # Seen now, all are younger than the window: nothing is idle yet.
    assert idle_endpoints.idle_endpoints(aws.sagemaker, cloudwatch, 24, now) == []


def test_deleting_an_idle_endpoint_deregisters_its_scaling_first(
    aws: Aws, meta: dict[str, str]
) -> None:
    plan = planned(aws, meta)
    _endpoint(aws, "fairmot-test-tracker", [])
    scale_endpoint.handler({"scaling": plan["scaling"], "meta": meta}, CONTEXT)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    idle_endpoints.delete(aws.sagemaker, autoscaling, "fairmot-test-tracker")
    assert (
        autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    )
    assert aws.sagemaker.list_endpoints()["Endpoints"] == []


def test_zero_idle_hours_deletes_nothing(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDLE_HOURS", "0")
    _endpoint(aws, "fairmot-test-idle", [])
    assert idle_endpoints.handler({"meta": meta}, CONTEXT) == {"deleted": [], "idleHours": 0}
    assert len(aws.sagemaker.list_endpoints()["Endpoints"]) == 1
