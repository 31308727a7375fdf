"""A `sagemaker` Session for the deployed stack, or for local mode (`fairmot local up`).

Local mode is a moto server on loopback (its stack.json names the URL): every client the SDK
creates, including the ones sagemaker-core builds from the boto3 session (IAM, STS, S3,
SageMaker), must go there, so the boto3 session itself gives each client that endpoint URL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; real ones must never be sent to a loopback server.
LOCAL_ACCESS_KEY = "testing"
VALIDATE_ROLE_VARIABLE = "SAGEMAKER_VALIDATE_ROLE"


def local_stack(state_dir: str | Path = ".fairmot-local") -> dict[str, Any]:
    """The description `fairmot local up` wrote (endpoint_url, buckets, outputs...)."""
    path = Path(state_dir) / "stack.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start local mode with `fairmot local up`")
    stack: dict[str, Any] = json.loads(path.read_text())
    return stack


def boto_session(endpoint_url: str | None = None, region: str = DEFAULT_REGION) -> Any:
    """A boto3 session; with `endpoint_url`, every client it makes talks to that URL."""
    import boto3

    if not endpoint_url:
        return boto3.Session(region_name=region)

    class EndpointSession(boto3.Session):
        def client(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["endpoint_url"] = kwargs.get("endpoint_url") or endpoint_url
            return super().client(*args, **kwargs)

        def resource(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["endpoint_url"] = kwargs.get("endpoint_url") or endpoint_url
            return super().resource(*args, **kwargs)

    return EndpointSession(
        region_name=region,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_ACCESS_KEY,
    )


def sagemaker_session(
    endpoint_url: str | None = None,
    region: str = DEFAULT_REGION,
    default_bucket: str | None = None,
) -> Any:
    """A `sagemaker` Session on `boto_session(endpoint_url, region)`."""
    from sagemaker.core.helper.session_helper import Session

    if endpoint_url:
        # The SDK checks a role with iam:SimulatePrincipalPolicy, which moto answers with a 500;
        # the local stack's role is its own, so there is nothing to check (the SDK's own switch).
        os.environ[VALIDATE_ROLE_VARIABLE] = "false"
    boto = boto_session(endpoint_url, region)
    return Session(
        boto_session=boto,
        sagemaker_client=boto.client("sagemaker", endpoint_url=endpoint_url),
        sagemaker_runtime_client=boto.client("sagemaker-runtime", endpoint_url=endpoint_url),
        default_bucket=default_bucket,
    )


def cloudformation_outputs(boto: Any, stack_name: str) -> dict[str, str]:
    """A deployed stack's Outputs (DataBucketName, EndpointName, SageMakerExecutionRoleArn...),
    the same names local mode writes under `outputs` in stack.json."""
    stacks = boto.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
