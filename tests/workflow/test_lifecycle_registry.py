"""The model lifecycle through the registry, in local mode: train -> register a model package ->
approve (an operator's `fairmot approve`, or the manifest's auto_approve rule) -> the registry's
state-change event starts deploy -> a real `serve` process behind the endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairmot.commands.approve import approve
from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow
from tests.workflow.conftest import TINY_HYPERPARAMETERS, upload_dataset

pytestmark = pytest.mark.slow


def _trained(aws: LocalAws, dataset: Path, name: str, work: Path, **manifest: object) -> dict:
    assert aws.stack is not None
    upload_dataset(aws, dataset, name, work, **manifest)
    run = wait_for_workflow(aws, aws.stack.state_machine("training"), known=0, timeout_s=300)
    assert run.status == "SUCCEEDED", run.failure
    (event,) = consumer_events(aws, result_queue_url(aws.stack.outputs))
    assert event["detail-type"] == "Training Succeeded"
    return dict(event["detail"]["model"])


def _deployed(aws: LocalAws) -> dict:
    assert aws.stack is not None
    run = wait_for_workflow(aws, aws.stack.state_machine("deploy"), known=0, timeout_s=240)
    assert run.status == "SUCCEEDED", run.failure
    (event,) = consumer_events(aws, result_queue_url(aws.stack.outputs))
    assert event["detail-type"] == "Model Deployed"
    return dict(event["detail"])


def test_a_pending_package_deploys_once_approved(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    model = _trained(pipeline, tiny_dataset, "tiny", tmp_path)
    assert model["approvalStatus"] == "PendingManualApproval"
    assert pipeline.stack is not None
    deploy = pipeline.stack.state_machine("deploy")
    sfn = pipeline.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=deploy)["executions"] == []  # pending: no deploy
    sagemaker = pipeline.client("sagemaker")
    assert approve(sagemaker, model["packageGroup"]) == model["packageArn"]
    deployed = _deployed(pipeline)
    assert deployed["model"] == model["uri"]
    endpoint = sagemaker.describe_endpoint(EndpointName=deployed["endpointName"])
    assert endpoint["EndpointStatus"] == "InService"
    package = sagemaker.describe_model_package(ModelPackageName=model["packageArn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["trainingJobName"] == model["name"]


def test_an_auto_approved_package_deploys_without_an_operator(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    model = _trained(
        pipeline, tiny_dataset, "auto", tmp_path,
        hyperparameters={**TINY_HYPERPARAMETERS, "half_val": "1"},
        auto_approve={"metric": "val_idf1", "min": 0.0},
    )  # fmt: skip
    assert model["approvalStatus"] == "Approved"
    deployed = _deployed(pipeline)
    assert deployed["model"] == model["uri"]
    assert deployed["action"] == "create"
