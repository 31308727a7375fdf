"""The training state machine from the project's files, run by moto with real (tiny) jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow
from tests.workflow.conftest import upload_dataset

pytestmark = pytest.mark.slow


def _s3_json_or_bytes(aws: LocalAws, uri: str) -> bytes:
    bucket, _, key = uri[5:].partition("/")
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_dataset_upload_trains_registers_and_publishes_success(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    upload_dataset(pipeline, tiny_dataset, "tiny", tmp_path)
    run = wait_for_workflow(
        pipeline, pipeline.stack.state_machine("training"), known=0, timeout_s=300
    )  # type: ignore[union-attr]
    assert run.status == "SUCCEEDED", run.failure
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Training Succeeded"
    detail = event["detail"]
    assert detail["datasetName"] == "tiny"
    model_uri = detail["model"]["uri"]
    assert model_uri.endswith(f"/{detail['trainingJobName']}/output/model.tar.gz")
    assert _s3_json_or_bytes(pipeline, model_uri)[:2] == b"\x1f\x8b"  # a real gzip artifact
    assert "loss" in detail["metrics"]
    job = pipeline.client("sagemaker").describe_training_job(
        TrainingJobName=detail["trainingJobName"]
    )
    assert job["TrainingJobStatus"] == "Completed"
    assert job["HyperParameters"]["input_w"] == "160"


def test_tuning_runs_two_jobs_in_parallel_and_retrains_the_better_one(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    tuning = {
        "ranges": {"lr": {"min": "1e-5", "max": "1e-2", "scaling": "Logarithmic"}},
        "objective": "loss",
        "objective_type": "Minimize",
        "max_jobs": 2,
        "max_parallel_jobs": 2,
    }
    upload_dataset(pipeline, tiny_dataset, "tuned", tmp_path, tuning=tuning)
    assert pipeline.stack is not None
    run = wait_for_workflow(
        pipeline, pipeline.stack.state_machine("training"), known=0, timeout_s=600
    )
    assert run.status == "SUCCEEDED", run.failure
    sagemaker = pipeline.client("sagemaker")
    (tuning_job,) = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    name = tuning_job["HyperParameterTuningJobName"]
    children = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )["TrainingJobSummaries"]
    assert len(children) == 2
    first, second = sorted(children, key=lambda c: c["TrainingStartTime"])
    assert second["TrainingStartTime"] < first["TrainingEndTime"], "the two jobs ran one by one"
    assert first["TunedHyperParameters"] != second["TunedHyperParameters"]
    losses = {
        c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for c in children
    }
    best = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "BestTrainingJob"
    ]
    # Losses print rounded, so two children may tie: the best is one with the lowest loss.
    assert losses[best["TrainingJobName"]] == min(losses.values())
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Training Succeeded"
    retrained = sagemaker.describe_training_job(TrainingJobName=event["detail"]["trainingJobName"])
    assert retrained["TrainingJobName"] not in losses
    assert retrained["HyperParameters"]["lr"] == best["TunedHyperParameters"]["lr"]


def test_a_failing_training_job_publishes_training_failed_with_its_reason(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    hyperparameters = json.loads((tiny_dataset / "manifest.json").read_text())["hyperparameters"]
    upload_dataset(
        pipeline, tiny_dataset, "broken", tmp_path,
        hyperparameters={**hyperparameters, "no_such_option": "1"},
    )  # fmt: skip
    assert pipeline.stack is not None
    run = wait_for_workflow(
        pipeline, pipeline.stack.state_machine("training"), known=0, timeout_s=300
    )
    assert run.status == "FAILED"
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Training Failed"
    (job,) = pipeline.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    reason = pipeline.client("sagemaker").describe_training_job(
        TrainingJobName=job["TrainingJobName"]
    )["FailureReason"]
    assert "no_such_option" in reason
    assert event["detail"]["error"] == "TrainingJobFailed"
    assert "no_such_option" in event["detail"]["reason"] and "\n" not in event["detail"]["reason"]


def test_the_same_upload_event_twice_starts_one_job(
    pipeline: LocalAws, tiny_dataset: Path, tmp_path: Path
) -> None:
    assert pipeline.stack is not None
    upload_dataset(pipeline, tiny_dataset, "twice", tmp_path)
    first = wait_for_workflow(
        pipeline, pipeline.stack.state_machine("training"), known=0, timeout_s=300
    )
    s3 = pipeline.client("s3")
    key = "datasets/twice/manifest.json"
    body = s3.get_object(Bucket=pipeline.stack.bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=pipeline.stack.bucket, Key=key, Body=body)  # same bytes: same etag
    second = wait_for_workflow(
        pipeline, pipeline.stack.state_machine("training"), known=1, timeout_s=120
    )
    assert first.status == "SUCCEEDED", first.failure
    assert second.status == "SUCCEEDED", second.failure
    jobs = pipeline.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1
    types = [
        e["detail-type"]
        for e in consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    ]
    assert types.count("Training Succeeded") == 1
