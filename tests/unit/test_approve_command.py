"""`fairmot approve PACKAGE` against moto's Model Registry: ARN, GROUP/VERSION and GROUP."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fairmot.commands.approve import PackageNotFoundError, approve, resolve, run

SPEC = {
    "Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m.tar.gz"}],
    "SupportedContentTypes": ["application/json"],
    "SupportedResponseMIMETypes": ["application/json"],
}


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("sagemaker")
        client.create_model_package_group(ModelPackageGroupName="fairmot-dev-mot17")
        for status in ("Approved", "PendingManualApproval", "PendingManualApproval"):
            client.create_model_package(
                ModelPackageGroupName="fairmot-dev-mot17", ModelApprovalStatus=status,
                InferenceSpecification=SPEC,
            )  # fmt: skip
        yield client


def _status(sagemaker: Any, arn: str) -> str:
    return str(sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])


def test_a_group_names_its_newest_pending_package(sagemaker: Any) -> None:
    arn = approve(sagemaker, "fairmot-dev-mot17", description="reviewed the card")
    assert arn.endswith("/fairmot-dev-mot17/3")
    assert _status(sagemaker, arn) == "Approved"
    # Version 2 is now the newest pending one.
    assert resolve(sagemaker, "fairmot-dev-mot17").endswith("/2")


def test_group_slash_version_and_arn_name_one_package(sagemaker: Any) -> None:
    second = resolve(sagemaker, "fairmot-dev-mot17/2")
    assert second.endswith("/fairmot-dev-mot17/2")
    assert resolve(sagemaker, second) == second
    approve(sagemaker, second, reject=True)
    assert _status(sagemaker, second) == "Rejected"


def test_nothing_to_approve_is_a_clear_error(
    sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PackageNotFoundError, match="no version 9"):
        resolve(sagemaker, "fairmot-dev-mot17/9")
    args = argparse.Namespace(package="fairmot-dev-other", reject=False, description="")
    assert run(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "fairmot approve: model package group 'fairmot-dev-other' has no package pending "
        "manual approval"
    )
