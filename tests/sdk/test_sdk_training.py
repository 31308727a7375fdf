"""The SDK's ModelTrainer and HyperparameterTuner send the requests the training Lambda builds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fairmot.sdk.contracts import DatasetManifest, TrainingSettings, TuningSpec
from fairmot.sdk.session import sagemaker_session
from fairmot.sdk.training import (
    DatasetRef,
    build_trainer,
    build_tuner,
    training_request,
    tuning_request,
)

SETTINGS = TrainingSettings(
    role_arn="arn:aws:iam::123456789012:role/fairmot-sagemaker",
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-fairmot:train",
    instance_type="ml.g5.2xlarge",
    instance_count=2,
    tuning_instance_type="ml.g5.xlarge",
    tuning_max_jobs=6,
    tuning_max_parallel_jobs=2,
    default_hyperparameters={"arch": "lite", "num_epochs": "3"},
    spot=True,
    max_seconds=3600,
)
TUNING = TuningSpec(
    ranges={
        "lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"},
        "batch_size": {"min": "4", "max": "12"},
        "id_loss": {"values": ["ce", "focal"]},
    },
    max_jobs=2,
    max_parallel_jobs=1,
)
DATASET = DatasetRef(
    uri="s3://fairmot-data/datasets/tiny/",
    manifest=DatasetManifest(
        name="tiny", sequences=["SEQ-01", "SEQ-02"], hyperparameters={"lr": "2e-4"}, tuning=TUNING
    ),
    etag="abc123",
    run_id="run-1",
)


class Sent(Exception):
    """Raised by the capture hook once the SDK has built its request: nothing is sent."""


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, dict[str, Any]]]]:
    """A Session whose clients record the parameters of every SageMaker create call."""
    requests: dict[str, dict[str, Any]] = {}

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        requests[model.name] = dict(params)
        raise Sent(model.name)

    # The role is an ARN given in full; its IAM check needs a live account.
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    session = sagemaker_session("http://127.0.0.1:9", default_bucket="fairmot-data")
    for operation in ("CreateTrainingJob", "CreateHyperParameterTuningJob"):
        session.boto_session.events.register(f"provide-client-params.sagemaker.{operation}", record)
    yield session, requests


def _sdk_spells_out_gzip(request: dict[str, Any]) -> None:
    """GZIP is the API's own default output compression: the SDK sends it, the Lambda implies it."""
    request["OutputDataConfig"]["CompressionType"] = "GZIP"


def _without_name(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != "TrainingJobName"}


def test_trainer_sends_the_lambdas_training_request(captured: Any) -> None:
    session, requests = captured
    dataset = DATASET.to_dataset()
    expected = training_request(SETTINGS, dataset)
    with pytest.raises(Sent):
        build_trainer(SETTINGS, dataset, session).train(wait=False, logs=False)
    sent = requests["CreateTrainingJob"]
    # The SDK stamps the name (<stack name>-<timestamp>, cut to 63); all else is the Lambda's.
    assert sent["TrainingJobName"].startswith(expected["TrainingJobName"][:40])
    assert len(sent["TrainingJobName"]) <= 63
    _sdk_spells_out_gzip(expected)
    assert _without_name(sent) == _without_name(expected)


def test_tuner_sends_the_lambdas_tuning_request(captured: Any) -> None:
    session, requests = captured
    dataset = DATASET.to_dataset()
    expected = tuning_request(SETTINGS, dataset)
    tuner, name = build_tuner(SETTINGS, dataset, session)
    assert name == expected["HyperParameterTuningJobName"]
    with pytest.raises(Sent):
        tuner.tune(job_name=name, wait=False)
    sent = requests["CreateHyperParameterTuningJob"]
    _sdk_spells_out_gzip(expected["TrainingJobDefinition"])
    assert sent == expected
