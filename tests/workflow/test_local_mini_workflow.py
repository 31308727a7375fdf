"""The seams end to end on a small template: S3 -> EventBridge -> Step Functions -> Lambda ->
SageMaker processing (.sync, a real local process) -> events on the bus -> consumer queue."""

from __future__ import annotations

import json

import pytest

from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, wait_for_workflow

pytestmark = pytest.mark.slow


def _queue(aws: LocalAws) -> str:
    assert aws.stack is not None
    return str(aws.stack.outputs["ConsumerQueueUrl"])


def test_upload_runs_the_job_and_publishes_done(mini: LocalAws) -> None:
    assert mini.stack is not None
    s3 = mini.client("s3")
    s3.put_object(Bucket=mini.stack.bucket, Key="in/a.txt", Body=b"hello")
    run = wait_for_workflow(mini, mini.stack.state_machine("Jobs"), known=0, timeout_s=60)
    assert run.status == "SUCCEEDED", run.failure
    copied = s3.get_object(Bucket=mini.stack.bucket, Key="out/in/a.txt/a.txt")["Body"].read()
    assert copied == b"hello"
    events = consumer_events(mini, _queue(mini))
    assert [e["detail-type"] for e in events] == ["Done"]
    assert events[0]["detail"]["job"] == {"status": "Completed", "name": "copy-in-a-txt"}
    assert [e["detail-type"] for e in mini.published.events] == ["Done"]


def test_lambda_exception_is_caught_by_its_class_name(mini: LocalAws) -> None:
    assert mini.stack is not None
    mini.client("s3").put_object(Bucket=mini.stack.bucket, Key="in/bad.txt", Body=b"x")
    run = wait_for_workflow(mini, mini.stack.state_machine("Jobs"), known=0, timeout_s=60)
    assert run.status == "FAILED"
    (event,) = consumer_events(mini, _queue(mini))
    assert event["detail-type"] == "Rejected"
    assert event["detail"]["error"]["Error"] == "InvalidInput"
    assert json.loads(event["detail"]["error"]["Cause"])["errorMessage"] == "refusing in/bad.txt"


def test_failed_job_fails_the_sync_task_with_its_own_reason(mini: LocalAws) -> None:
    assert mini.stack is not None
    mini.client("s3").put_object(Bucket=mini.stack.bucket, Key="in/fail.txt", Body=b"x")
    run = wait_for_workflow(mini, mini.stack.state_machine("Jobs"), known=0, timeout_s=60)
    assert run.status == "FAILED"
    (event,) = consumer_events(mini, _queue(mini))
    assert event["detail-type"] == "Failed"
    assert event["detail"]["error"]["Error"] == "States.TaskFailed"
    cause = json.loads(event["detail"]["error"]["Cause"])
    assert cause["ProcessingJobStatus"] == "Failed"
    assert cause["FailureReason"] == "input says fail"


def test_a_second_job_of_the_same_name_is_refused(mini: LocalAws) -> None:
    from botocore.exceptions import ClientError

    assert mini.stack is not None
    s3 = mini.client("s3")
    s3.put_object(Bucket=mini.stack.bucket, Key="in/a.txt", Body=b"hello")
    wait_for_workflow(mini, mini.stack.state_machine("Jobs"), known=0, timeout_s=60)
    sagemaker = mini.client("sagemaker")
    request = sagemaker.describe_processing_job(ProcessingJobName="copy-in-a-txt")
    with pytest.raises(ClientError, match="ResourceInUse"):
        sagemaker.create_processing_job(
            ProcessingJobName="copy-in-a-txt",
            RoleArn=request["RoleArn"],
            AppSpecification=request["AppSpecification"],
            ProcessingResources={
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
        )


def test_an_api_error_in_a_sagemaker_task_fails_it_as_the_real_integration(
    mini: LocalAws,
) -> None:
    assert mini.stack is not None
    mini.client("s3").put_object(Bucket=mini.stack.bucket, Key="in/a.txt", Body=b"hello")
    wait_for_workflow(mini, mini.stack.state_machine("Jobs"), known=0, timeout_s=60)
    request = mini.client("sagemaker").describe_processing_job(ProcessingJobName="copy-in-a-txt")
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {
            "ProcessingJobName": "copy-in-a-txt",  # taken: SageMaker answers ResourceInUse
            "RoleArn": request["RoleArn"],
            "AppSpecification": request["AppSpecification"],
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
        },
        "End": True,
    }
    sfn = mini.client("stepfunctions")
    again = sfn.create_state_machine(
        name="again",
        roleArn=request["RoleArn"],
        definition=json.dumps({"StartAt": "Again", "States": {"Again": task}}),
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=again, name="twice")
    run = wait_for_workflow(mini, again, known=0, timeout_s=60)
    assert run.status == "FAILED"
    assert run.failure is not None
    assert run.failure.startswith("SageMaker.AmazonSageMakerException: ")
    assert "Error Code: ResourceInUse" in run.failure
