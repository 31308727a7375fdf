"""The SDK's Processor sends the CreateProcessingJob request the batch Lambda builds."""

from __future__ import annotations

from typing import Any

import pytest

from fairmot.sdk.batch import ProcessingSettings, build_batch_job
from fairmot.sdk.contracts import S3Object
from fairmot.sdk.session import sagemaker_session
from fairmot.sdk.training import NOTEBOOK_META

SETTINGS = ProcessingSettings(
    role_arn="arn:aws:iam::123456789012:role/fairmot-sagemaker",
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-fairmot:serve",
    instance_type="ml.g4dn.xlarge",
    instance_count=1,
)
VIDEO = S3Object(bucket="fairmot-data", key="videos/street/cam1.mp4", etag="e1")
MODEL = "s3://fairmot-data/models/tiny/model.tar.gz"


class Sent(Exception):
    """Raised once the SDK has built its request: nothing is sent."""


def lambda_request(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What plan_processing builds for VIDEO and MODEL, run against moto."""
    import boto3
    import plan_processing
    from models import Video, VideoRequest
    from moto import mock_aws
    from validate_video import results_prefix

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "NAME_PREFIX": "fairmot-dev",
        "PROCESS_IMAGE_URI": SETTINGS.image_uri, "SAGEMAKER_ROLE_ARN": SETTINGS.role_arn,
        "PROCESSING_INSTANCE_TYPE": SETTINGS.instance_type,
        "PROCESSING_INSTANCE_COUNT": str(SETTINGS.instance_count),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    video = Video(
        uri=VIDEO.uri, object=VIDEO, resultsPrefix=results_prefix(VIDEO.bucket, VIDEO.key)
    )
    with mock_aws():
        plan = plan_processing.plan(
            boto3.client("s3"), boto3.client("sagemaker"),
            VideoRequest(video=VIDEO, modelUri=MODEL), video, NOTEBOOK_META,
        )  # fmt: skip
    assert plan["results"]["prefix"] == video.resultsPrefix
    request: dict[str, Any] = plan["request"]
    return request


def test_processor_sends_the_lambdas_processing_request(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = lambda_request(monkeypatch)
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    session = sagemaker_session("http://127.0.0.1:9", default_bucket="fairmot-data")
    sent: dict[str, Any] = {}

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.update(params)
        raise Sent()

    session.sagemaker_client.meta.events.register(
        "provide-client-params.sagemaker.CreateProcessingJob", record
    )
    job = build_batch_job(SETTINGS, VIDEO, MODEL, session)
    assert job.results == "s3://fairmot-data/results/street/cam1/"
    with pytest.raises(Sent):
        job.run(wait=False)
    # "None" is the API's own default input compression: the SDK sends it, the Lambda implies it.
    for channel in expected["ProcessingInputs"]:
        channel["S3Input"]["S3CompressionType"] = "None"
    assert sent == expected


def test_a_model_uri_that_is_not_s3_is_refused() -> None:
    with pytest.raises(ValueError, match="is not an s3://bucket/key URI"):
        build_batch_job(SETTINGS, VIDEO, "models/tiny/model.tar.gz", session=None)
