"""Canaries of the model-lifecycle seams on the pinned moto: each patches what it names, undoes
cleanly, and still fixes what moto gets wrong (a moto upgrade that changes this fails here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fairmot.local import deployment_seam, registry_seam
from fairmot.local.endpoint_seam import LocalEndpoints
from fairmot.local.seam import Patches

REGION = "us-east-1"


def _targets() -> list[tuple[Any, str]]:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.sagemaker.models import SageMakerModelBackend

    return [
        (SageMakerModelBackend, "create_model_package"),
        (SageMakerModelBackend, "update_model_package"),
        (CloudWatchBackend, "put_metric_alarm"),
    ]


def test_the_lifecycle_seams_install_and_undo(tmp_path: Path) -> None:
    before = {(id(o), n): getattr(o, n) for o, n in _targets()}
    patches = Patches()
    endpoints = LocalEndpoints(tmp_path, lambda: None)
    endpoints.install(patches)
    registry_seam.install(patches)
    deployment_seam.install(patches, endpoints, 1.0)
    try:
        for owner, name in _targets():
            assert getattr(owner, name) is not before[(id(owner), name)], name
        assert endpoints.bake is not None
    finally:
        patches.undo()
    for owner, name in _targets():
        assert getattr(owner, name) is before[(id(owner), name)], name


@pytest.fixture
def patched(tmp_path: Path) -> Any:
    patches = Patches()
    with mock_aws():
        endpoints = LocalEndpoints(tmp_path, lambda: None)
        endpoints.install(patches)
        registry_seam.install(patches)
        deployment_seam.install(patches, endpoints, 1.0)
        try:
            yield
        finally:
            patches.undo()


def test_an_approval_is_announced_and_an_update_keeps_what_it_leaves_out(patched: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    pattern = {"source": ["aws.sagemaker"], "detail-type": [registry_seam.DETAIL_TYPE]}
    events.put_rule(Name="registry", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="registry", Targets=[{"Id": "q", "Arn": queue_arn}])
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model_package_group(ModelPackageGroupName="g")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="g", ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"val_idf1": "0.8"},
        InferenceSpecification={"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m"}],
                                "SupportedContentTypes": ["application/json"],
                                "SupportedResponseMIMETypes": ["application/json"]},
    )["ModelPackageArn"]  # fmt: skip
    sagemaker.update_model_package(ModelPackageArn=arn, ApprovalDescription="looked fine")
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"  # moto alone blanks both
    assert package["CustomerMetadataProperties"] == {"val_idf1": "0.8"}
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    # One for the new package, one for the approval; none for the description-only update.
    assert [b["detail"]["ModelApprovalStatus"] for b in bodies] == [
        "PendingManualApproval", "Approved",
    ]  # fmt: skip
    assert bodies[1]["detail"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == (
        "s3://b/m"
    )


def test_an_updated_alarm_keeps_its_state(patched: Any) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    alarm = {
        "AlarmName": "a", "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
        "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    cloudwatch.put_metric_alarm(**alarm)
    cloudwatch.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="5xx")
    cloudwatch.put_metric_alarm(**{**alarm, "Threshold": 1.0})
    (described,) = cloudwatch.describe_alarms(AlarmNames=["a"])["MetricAlarms"]
    assert (described["StateValue"], described["Threshold"]) == ("ALARM", 1.0)
