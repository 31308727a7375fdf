"""Fixtures for the Lambda step tests: moto with the data bucket and the stack's environment."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from functions_support import ACCOUNT, BUCKET, REGION, STACK_ENV, Aws
from moto import mock_aws

from fairmot.aws import request_check


@pytest.fixture(autouse=True)
def checked_requests() -> Iterator[request_check.CheckedRequests]:
    """Every SageMaker/EventBridge/Step Functions call a test makes is checked as AWS would."""
    seen = request_check.CheckedRequests()
    undo = request_check.install(seen)
    try:
        yield seen
    finally:
        undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto with the data bucket created and the stack's function environment set."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in STACK_ENV.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield Aws(s3=s3, sagemaker=boto3.client("sagemaker", region_name=REGION), bucket=BUCKET)


@pytest.fixture
def meta() -> dict[str, str]:
    return {
        "executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:fairmot-dev-training:run-1",
        "correlationId": "run-1",
    }
