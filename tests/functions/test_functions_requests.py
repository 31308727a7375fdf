"""The request check refuses what AWS refuses: every trait of botocore's service model that its
ParamValidator leaves out (max, pattern, enum) and the rules AWS documents beside the model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fairmot.aws.request_check import RequestInvalidError, check, problems

ROLE = "arn:aws:iam::123456789012:role/r"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-fairmot:process"


def processing(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": "fairmot-test-proc-a-0123456789",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1, "InstanceType": "ml.g4dn.xlarge", "VolumeSizeInGB": 50,
            }
        },
        "AppSpecification": {"ImageUri": IMAGE},
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }  # fmt: skip
    request.update(changes)
    return request


def tuning(ranges: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": "fairmot-test-hpo-0123456789",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": ranges,
        },
    }


def test_a_valid_request_passes() -> None:
    assert problems("sagemaker", "CreateProcessingJob", processing()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Environment": {"FAIRMOT_VIDEO_URI": "s3://b/" + "v" * 300}}, "at most 256"),
        ({"ProcessingJobName": "under_score"}, "does not match the pattern"),
        ({"ProcessingJobName": "x" * 64}, "at most 63"),
        ({"StoppingCondition": {"MaxRuntimeInSeconds": 40 * 86400}}, "above the maximum"),
        ({"AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": []}}, "Invalid length"),
        ({"Tags": [{"Key": "k", "Value": "a;b"}]}, "does not match the pattern"),
    ],
)
def test_traits_of_the_service_model(changes: dict[str, Any], expected: str) -> None:
    found = problems("sagemaker", "CreateProcessingJob", processing(**changes))
    assert any(expected in p for p in found), found


def test_hyperparameter_count_and_value_length() -> None:
    base = {
        "TrainingJobName": "fairmot-test-train-0123456789",
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://b/out/"},
        "ResourceConfig": {
            "InstanceType": "ml.g5.2xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 1,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    many = {f"h{i}": "1" for i in range(101)}
    assert any("101 entries" in p for p in problems("sagemaker", "CreateTrainingJob",
                                                     {**base, "HyperParameters": many}))  # fmt: skip
    long_value = {"lr": "1" * 2501}
    assert any(
        "2501 characters" in p
        for p in problems("sagemaker", "CreateTrainingJob", {**base, "HyperParameters": long_value})
    )
    over = {**base, "StoppingCondition": {"MaxRuntimeInSeconds": 28 * 86400 + 1}}
    assert any("28 days" in p for p in problems("sagemaker", "CreateTrainingJob", over))


def test_enum_values_are_checked() -> None:
    request = processing()
    request["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.g9.huge"
    assert any("is not one of" in p for p in problems("sagemaker", "CreateProcessingJob", request))


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ({"ContinuousParameterRanges": [
            {"Name": "wh_weight", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]},
         "above 0"),
        ({"ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": "0.1", "MaxValue": "2", "ScalingType": "ReverseLogarithmic"}]},
         "[0, 1)"),
        ({"IntegerParameterRanges": [
            {"Name": "e", "MinValue": "0", "MaxValue": "0", "ScalingType": "ReverseLogarithmic"}]},
         "continuous"),
        ({"IntegerParameterRanges": [{"Name": "e", "MinValue": "9", "MaxValue": "3"}]}, "above"),
    ],
)  # fmt: skip
def test_tuning_ranges_as_sagemaker_accepts_them(
    ranges: dict[str, list[dict[str, Any]]], expected: str
) -> None:
    found = problems("sagemaker", "CreateHyperParameterTuningJob", tuning(ranges))
    assert any(expected in p for p in found), found


def test_gpu_endpoints_must_name_an_inference_ami() -> None:
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g4dn.xlarge",
               "InitialInstanceCount": 1}  # fmt: skip
    request = {"EndpointConfigName": "c", "ProductionVariants": [variant]}
    with pytest.raises(RequestInvalidError, match="InferenceAmiVersion"):
        check("sagemaker", "CreateEndpointConfig", request)
    variant["InferenceAmiVersion"] = "al2-ami-sagemaker-inference-gpu-3-1"
    check("sagemaker", "CreateEndpointConfig", request)
    variant["InferenceAmiVersion"] = "al2-ami-sagemaker-inference-gpu-9"
    with pytest.raises(RequestInvalidError, match="is not one of"):
        check("sagemaker", "CreateEndpointConfig", request)


def test_step_functions_and_eventbridge_requests() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:fairmot-batch"
    with pytest.raises(RequestInvalidError, match="at most 80"):
        check("stepfunctions", "StartExecution", {"stateMachineArn": arn, "name": "n" * 81})
    entry = {"Source": "fairmot.pipeline", "DetailType": "Video Processed", "Detail": "{}",
             "EventBusName": "bus with spaces"}  # fmt: skip
    with pytest.raises(RequestInvalidError, match="pattern"):
        check("events", "PutEvents", {"Entries": [entry]})
    check("events", "PutEvents", {"Entries": [{**entry, "EventBusName": "fairmot-bus"}] * 10})
    with pytest.raises(RequestInvalidError, match="11 items"):
        check("events", "PutEvents", {"Entries": [json.loads(json.dumps(entry))] * 11})


def test_installed_check_sees_boto3_calls(checked_requests: Any, aws: Any) -> None:
    with pytest.raises(RequestInvalidError, match="pattern"):
        aws.sagemaker.describe_training_job(TrainingJobName="not_valid")
    aws.s3.list_objects_v2(Bucket=aws.bucket)  # S3 is not one of the checked services
    assert checked_requests.calls == [("sagemaker", "DescribeTrainingJob")]
    assert len(checked_requests.refusals) == 1
