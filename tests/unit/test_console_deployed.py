"""`fairmot console --stack NAME`: a deployed stack found through CloudFormation (moto)."""

from __future__ import annotations

import json

import pytest

from fairmot.console.source import ConsoleError, deployed_source

pytestmark = pytest.mark.slow  # moto's CloudFormation takes a while to start

TEMPLATE = {
    "Resources": {
        "DataBucket": {"Type": "AWS::S3::Bucket"},
        "ResultsQueue": {"Type": "AWS::SQS::Queue"},
        "BatchStateMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "DefinitionString": json.dumps(
                    {"StartAt": "Go", "States": {"Go": {"Type": "Pass", "End": True}}}
                ),
            },
        },
    },
    "Outputs": {"ResultsQueueUrl": {"Value": {"Ref": "ResultsQueue"}}},
}


def test_a_deployed_stack_is_read_through_cloudformation_without_consuming_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("cloudformation").create_stack(
            StackName="fairmot-prod", TemplateBody=json.dumps(TEMPLATE)
        )
        source = deployed_source("fairmot-prod")
        assert list(source.state_machines) == ["BatchStateMachine"]
        assert source.bucket is not None and source.bucket.startswith("fairmot-prod-databucket")
        assert source.queue_url is not None
        sfn = boto3.client("stepfunctions")
        sfn.start_execution(stateMachineArn=source.state_machines["BatchStateMachine"], name="e1")
        event = {"detail-type": "Video Processed", "source": "fairmot.pipeline", "detail": {}}
        boto3.client("sqs").send_message(QueueUrl=source.queue_url, MessageBody=json.dumps(event))
        overview = source.overview()
        assert [e["name"] for e in overview["executions"]] == ["e1"]
        assert [e["detail-type"] for e in overview["events"]] == ["Video Processed"]
        # Peeking left the message for the stack's real consumers.
        assert [e["detail-type"] for e in source.events()] == ["Video Processed"]
        with pytest.raises(ConsoleError, match="no-such-stack"):
            deployed_source("no-such-stack")
