"""Training steps on moto: normalise, validate the dataset, plan, select best, retrain, register."""

from __future__ import annotations

import json
import re
from typing import Any

import models
import normalise_event
import plan_retrain
import plan_training
import pytest
import register_model
import select_best
import validate_dataset
from errors import DatasetInvalidError, InvalidEventError, NoCompletedTrainingJobError
from functions_support import (
    BUCKET,
    CONTEXT,
    REPO,
    STACK_ENV,
    Aws,
    put_dataset,
    s3_created,
    sample,
)  # fmt: skip
from names import MAX_NAME, MAX_TUNING_JOB_NAME, NAME_PATTERN

from fairmot_contracts.metrics import METRIC_DEFINITIONS

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
TUNING = {
    "ranges": {
        "lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"},
        "num_epochs": {"min": "2", "max": "6"},
        "id_loss": {"values": ["ce", "focal"]},
    },
    "max_jobs": 20,
    "max_parallel_jobs": 1,
}


def normalise(
    event: dict[str, Any], meta: dict[str, str], workflow: str = "training"
) -> dict[str, Any]:
    return normalise_event.handler({"workflow": workflow, "event": event, "meta": meta}, CONTEXT)


def validated(aws: Aws, meta: dict[str, str], **dataset: Any) -> dict[str, Any]:
    key = put_dataset(aws.s3, **dataset)
    start = normalise(s3_created(aws.s3, key), meta)
    return validate_dataset.handler(start, CONTEXT)["dataset"]


def test_s3_manifest_event_becomes_a_training_request(aws: Aws, meta: dict[str, str]) -> None:
    key = put_dataset(aws.s3)
    out = normalise(s3_created(aws.s3, key, event_id="evt-42"), meta)
    assert out["meta"]["correlationId"] == "evt-42"  # the trigger's id joins logs and events
    assert out["request"]["manifest"]["key"] == key
    assert out["request"]["manifest"]["etag"]
    assert out["request"]["deploy"] is None


def test_training_requested_event_names_the_dataset_prefix(aws: Aws, meta: dict[str, str]) -> None:
    put_dataset(aws.s3)
    out = normalise(sample("training-requested"), meta)
    request = out["request"]
    assert request["manifest"]["key"] == "datasets/synth-small/manifest.json"
    assert request["manifest"]["etag"]  # read from S3, as an S3 event would carry it
    assert (request["deploy"], request["runId"]) == (True, "2026-11-28")
    assert request["hyperparameters"] == {"num_epochs": "5"}
    assert out["meta"]["correlationId"] == "order-4711"


def test_training_rejects_other_events(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(InvalidEventError, match="does not accept 'Video Processing Requested'"):
        normalise(sample("video-processing-requested"), meta)
    with pytest.raises(InvalidEventError, match="does not exist"):
        normalise(sample("training-requested"), meta)  # nothing uploaded


def test_complete_dataset_validates_with_request_overrides(aws: Aws, meta: dict[str, str]) -> None:
    dataset = validated(aws, meta, manifest_extra={"hyperparameters": {"lr": "2e-4"}})
    assert dataset["uri"] == f"s3://{BUCKET}/datasets/synth-small/"
    assert dataset["sequences"] == ["SYN-01", "SYN-02"]
    assert (dataset["hyperparameters"], dataset["deploy"]) == ({"lr": "2e-4"}, False)


def test_manifest_naming_a_missing_sequence_fails(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(DatasetInvalidError, match=r"SYN-02/seqinfo.ini.*SYN-02/img1/"):
        validated(aws, meta, uploaded=("SYN-01",))


def test_malformed_manifest_fails(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(DatasetInvalidError, match="not a valid manifest"):
        validated(aws, meta, manifest_extra={"epochs": 3})


def test_plan_builds_a_training_job_sagemaker_accepts(aws: Aws, meta: dict[str, str]) -> None:
    dataset = validated(aws, meta)
    plan = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    assert (plan["mode"], plan["duplicate"], plan["tuning"]) == ("training", False, None)
    request = plan["training"]["request"]
    assert (
        NAME_PATTERN.match(request["TrainingJobName"])
        and len(request["TrainingJobName"]) <= MAX_NAME
    )
    assert request["TrainingJobName"].startswith("fairmot-test-train-synth-small-")
    assert request["HyperParameters"] == {"arch": "lite", "num_epochs": "2"}
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS
    assert request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == dataset["uri"]
    aws.sagemaker.create_training_job(**request)

    again = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    assert again["duplicate"] is True  # the same manifest version cannot start a second job


def test_plan_builds_a_tuning_job_within_32_characters(aws: Aws, meta: dict[str, str]) -> None:
    dataset = validated(
        aws, meta, name="a-rather-long-dataset-name", manifest_extra={"tuning": TUNING}
    )
    plan = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    assert (plan["mode"], plan["training"]) == ("tuning", None)
    request = plan["tuning"]["request"]
    name = request["HyperParameterTuningJobName"]
    assert len(name) <= MAX_TUNING_JOB_NAME and NAME_PATTERN.match(name)
    config = request["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "val_idf1",
    }
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 1}
    ranges = config["ParameterRanges"]
    assert [r["Name"] for r in ranges["ContinuousParameterRanges"]] == ["lr"]
    assert [r["Name"] for r in ranges["IntegerParameterRanges"]] == ["num_epochs"]
    assert ranges["CategoricalParameterRanges"] == [{"Name": "id_loss", "Values": ["ce", "focal"]}]
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static == {"arch": "lite", "half_val": "1"}  # tuned names are not static
    aws.sagemaker.create_hyper_parameter_tuning_job(**request)
    again = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    assert again["duplicate"] is True


def test_unknown_objective_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    dataset = validated(aws, meta, manifest_extra={"tuning": {**TUNING, "objective": "accuracy"}})
    with pytest.raises(DatasetInvalidError, match="accuracy"):
        plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)


def tuned(aws: Aws, meta: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = validated(aws, meta, manifest_extra={"tuning": TUNING})
    plan = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    aws.sagemaker.create_hyper_parameter_tuning_job(**plan["tuning"]["request"])
    return dataset, plan


def test_select_best_then_retrain_on_full_data(aws: Aws, meta: dict[str, str]) -> None:
    dataset, plan = tuned(aws, meta)
    name = plan["tuning"]["request"]["HyperParameterTuningJobName"]
    best = select_best.handler({"tuningJobName": name, "meta": meta}, CONTEXT)["best"]
    assert best["tuningJobName"] == name and best["trainingJobName"]
    best = {**best, "hyperparameters": {"lr": "0.0003", "id_loss": '"focal"'}}
    request = plan_retrain.handler(
        {"plan": plan, "best": best, "dataset": dataset, "meta": meta}, CONTEXT
    )["request"]
    assert request["TrainingJobName"].startswith("fairmot-test-full-")
    assert request["HyperParameters"] == {
        "arch": "lite", "num_epochs": "2", "lr": "0.0003", "id_loss": '"focal"', "half_val": "0",
    }  # fmt: skip
    aws.sagemaker.create_training_job(**request)


def test_tuning_without_a_completed_training_job_fails(aws: Aws, meta: dict[str, str]) -> None:
    _, plan = tuned(aws, meta)
    name = plan["tuning"]["request"]["HyperParameterTuningJobName"]
    description = aws.sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    description["TrainingJobStatusCounters"].update(Completed=0, NonRetryableError=6)
    with pytest.raises(NoCompletedTrainingJobError, match=name):
        select_best.pick_best(description)
    del description["BestTrainingJob"]
    description["TrainingJobStatusCounters"]["Completed"] = 1
    with pytest.raises(NoCompletedTrainingJobError):
        select_best.pick_best(description)


def test_categorical_values_come_back_unquoted() -> None:
    assert select_best.clean_hyperparameters({"id_loss": '"focal"', "lr": "0.1"}) == {
        "id_loss": "focal", "lr": "0.1",
    }  # fmt: skip


def _register(aws: Aws, meta: dict[str, str], auto_approve: Any = None) -> dict[str, Any]:
    dataset = validated(aws, meta)
    dataset["auto_approve"] = auto_approve
    plan = plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)
    job = plan["training"]["request"]["TrainingJobName"]
    aws.sagemaker.create_training_job(**plan["training"]["request"])
    out: dict[str, Any] = register_model.handler(
        {"trainingJobName": job, "dataset": dataset, "mode": "training", "tuning": None,
         "meta": meta}, CONTEXT)  # fmt: skip
    return out


def test_register_creates_a_pending_package_in_the_dataset_group(
    aws: Aws, meta: dict[str, str]
) -> None:
    out = _register(aws, meta)
    job = out["model"]["name"]
    assert out["model"]["uri"].endswith(f"{job}/output/model.tar.gz")
    assert out["model"]["approvalStatus"] == "PendingManualApproval"
    package = aws.sagemaker.describe_model_package(ModelPackageName=out["model"]["packageArn"])
    assert package["ModelPackageGroupName"] == out["model"]["packageGroup"]
    assert package["ModelPackageGroupName"].startswith("fairmot-test-")
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container == {"Image": STACK_ENV["SERVE_IMAGE_URI"], "ModelDataUrl": out["model"]["uri"]}
    report = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert report == f"s3://{BUCKET}/registry/{job}/metrics.json"
    latest = json.loads(aws.s3.get_object(Bucket=BUCKET, Key="registry/latest.json")["Body"].read())
    assert latest == {
        "modelUri": out["model"]["uri"],
        "modelPackageArn": out["model"]["packageArn"],
    }
    # No copy under models/: that key would start the deploy workflow a second time.
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="models/")["KeyCount"] == 0
    # A second model of the same dataset is the group's next version.
    again = _register(aws, {**meta, "correlationId": "run-2"})
    assert again["model"]["packageGroup"] == out["model"]["packageGroup"]
    assert (
        aws.sagemaker.describe_model_package(ModelPackageName=again["model"]["packageArn"])[
            "ModelPackageVersion"
        ]
        == 2
    )


def test_auto_approve_rule_against_the_reported_metrics() -> None:
    rule = models.AutoApprove(metric="val_idf1", min=0.8, beat_approved=True)
    assert register_model.approval(rule, {"val_idf1": 0.85}, None)[0] == "Approved"
    assert register_model.approval(rule, {"val_idf1": 0.85}, 0.9)[0] == "PendingManualApproval"
    assert register_model.approval(rule, {"val_idf1": 0.91}, 0.9)[0] == "Approved"
    assert register_model.approval(rule, {"val_idf1": 0.7}, None)[0] == "PendingManualApproval"
    assert register_model.approval(rule, {"loss": 0.1}, None)[0] == "PendingManualApproval"
    assert register_model.approval(None, {"val_idf1": 1.0}, None)[0] == "PendingManualApproval"


@pytest.mark.parametrize("workflow", ["training", "deploy", "batch"])
def test_sam_local_invoke_samples_normalise(aws: Aws, workflow: str) -> None:
    payload = json.loads(
        (REPO / "events" / "lambda" / f"normalise-event-{workflow}.json").read_text()
    )
    key = payload["event"]["detail"]["object"]["key"]
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")  # the event's key is looked up in S3
    out = normalise_event.handler(payload, CONTEXT)
    subject = {"training": "manifest", "deploy": "model", "batch": "video"}[workflow]
    assert out["request"][subject]["key"] == key
    assert out["meta"]["correlationId"] == payload["event"]["id"]


def test_log_lines_carry_the_correlation_id(aws: Aws, meta: dict[str, str]) -> None:
    key = put_dataset(aws.s3)
    start = normalise(s3_created(aws.s3, key, event_id="evt-77"), meta)
    validate_dataset.handler(start, CONTEXT)
    assert normalise_event.logger.get_correlation_id() == "evt-77"
    assert validate_dataset.logger.get_correlation_id() == "evt-77"


def test_a_superseded_manifest_event_does_not_train_the_newer_version(
    aws: Aws, meta: dict[str, str]
) -> None:
    key = put_dataset(aws.s3)
    start = normalise(s3_created(aws.s3, key), meta)
    put_dataset(aws.s3, manifest_extra={"hyperparameters": {"lr": "1e-4"}})  # a new version
    with pytest.raises(DatasetInvalidError, match="changed after this event"):
        validate_dataset.handler(start, CONTEXT)


def plan_for(aws: Aws, meta: dict[str, str], **manifest: Any) -> dict[str, Any]:
    dataset = validated(aws, meta, manifest_extra=manifest)
    return plan_training.handler({"request": {}, "dataset": dataset, "meta": meta}, CONTEXT)


@pytest.mark.parametrize(
    ("manifest", "limit"),
    [
        ({"hyperparameters": {f"h{i}": "1" for i in range(99)}}, "at most 100 a job"),
        ({"hyperparameters": {"note": "x" * 2501}}, "at most 2500 a value"),
        ({"tuning": {"ranges": {"wh_weight": {"min": "0", "max": "1", "scaling": "Logarithmic"}}}},
         "above 0"),
        ({"tuning": {"ranges": {"lr": {"min": "0.5", "max": "1.5",
                                       "scaling": "ReverseLogarithmic"}}}}, "within [0, 1)"),
        ({"tuning": {"ranges": {"num_epochs": {"min": "2", "max": "9",
                                               "scaling": "ReverseLogarithmic"}}}},
         "integer ranges take"),
        ({"tuning": {"ranges": {"lr": {"min": "1e-3", "max": "1e-5"}}}}, "above max"),
    ],
)  # fmt: skip
def test_limits_sagemaker_enforces_are_checked_before_any_job(
    aws: Aws, meta: dict[str, str], manifest: dict[str, Any], limit: str
) -> None:
    with pytest.raises(DatasetInvalidError, match=re.escape(limit)):
        plan_for(aws, meta, **manifest)
    assert aws.sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_the_limits_themselves_pass(aws: Aws, meta: dict[str, str]) -> None:
    # 98 + the 2 stack defaults = 100 hyperparameters, a 2,500-character value; valid ranges.
    hps = {**{f"h{i}": "1" for i in range(97)}, "note": "x" * 2500}
    plan = plan_for(aws, meta, hyperparameters=hps)
    aws.sagemaker.create_training_job(**plan["training"]["request"])  # the request check passes
    ranges = {"wh_weight": {"min": "0", "max": "0.99", "scaling": "ReverseLogarithmic"},
              "lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"}}  # fmt: skip
    tuned = plan_for(aws, meta, tuning={"ranges": ranges})
    aws.sagemaker.create_hyper_parameter_tuning_job(**tuned["tuning"]["request"])


def test_runtime_over_28_days_is_refused(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_TRAINING_SECONDS", str(28 * 86400 + 1))
    with pytest.raises(DatasetInvalidError, match="28 days"):
        plan_for(aws, meta)


@pytest.mark.parametrize(
    "uri",
    ["s3://{b}/registry/latest.json", "s3://{b}/results/x/manifest.json", "s3://{b}/other/d/"],
)
def test_requests_may_only_name_what_the_jobs_can_read(
    aws: Aws, meta: dict[str, str], uri: str
) -> None:
    event = sample("training-requested")
    event["detail"]["datasetUri"] = uri.format(b=BUCKET)
    with pytest.raises(InvalidEventError, match="outside what the pipeline's SageMaker jobs"):
        normalise(event, meta)


def test_pretrained_weights_become_the_pretrained_channel(
    aws: Aws, meta: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack_default = f"s3://{BUCKET}/pretrained/ctdet_coco_dla_2x.pth"
    monkeypatch.setenv("PRETRAINED_MODEL_URI", stack_default)
    plan = plan_for(aws, meta)
    channels = plan["training"]["request"]["InputDataConfig"]
    assert [c["ChannelName"] for c in channels] == ["train", "pretrained"]
    assert channels[1]["DataSource"]["S3DataSource"]["S3Uri"] == stack_default
    own = f"s3://{BUCKET}/models/zoo/fairmot_dla34.pth"  # the manifest's own wins
    tuned = plan_for(
        aws, meta, pretrained=own, tuning={"ranges": {"lr": {"min": "1e-5", "max": "1e-3"}}}
    )
    channels = tuned["tuning"]["request"]["TrainingJobDefinition"]["InputDataConfig"]
    assert channels[1] == {**channels[1], "ChannelName": "pretrained"}
    assert channels[1]["DataSource"]["S3DataSource"]["S3Uri"] == own
    aws.sagemaker.create_hyper_parameter_tuning_job(**tuned["tuning"]["request"])


def test_pretrained_weights_the_job_cannot_read_are_refused(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(DatasetInvalidError, match="not readable by the training job"):
        plan_for(aws, meta, pretrained=f"s3://{BUCKET}/registry/weights.pth")
    monkeypatch_free = plan_for(aws, meta)  # no stack default, no manifest option: one channel
    assert len(monkeypatch_free["training"]["request"]["InputDataConfig"]) == 1


def test_the_training_asl_hands_sagemaker_every_planned_field(
    aws: Aws, meta: dict[str, str]
) -> None:
    """Train and Tune pass the planned request on field by field (moto cannot run the JSONata
    that would pass it whole): a field the planner adds and the ASL forgets fails here."""
    states = json.loads((REPO / "statemachines" / "training.asl.json").read_text())["States"]

    dataset, plan = tuned(aws, meta)
    tuning = plan["tuning"]["request"]
    assert states["Tune"]["Parameters"] == {f"{k}.$": f"$.plan.tuning.request.{k}" for k in tuning}
    best = {"hyperparameters": {"lr": "0.0003"}}
    retrain = plan_retrain.handler(
        {"plan": plan, "best": best, "dataset": dataset, "meta": meta}, CONTEXT
    )["request"]
    single = plan_training.handler({"dataset": validated(aws, meta), "meta": meta}, CONTEXT)
    for request in (retrain, single["training"]["request"]):
        assert states["Train"]["Parameters"] == {
            f"{k}.$": f"$.plan.training.request.{k}" for k in request
        }
