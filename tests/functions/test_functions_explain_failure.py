"""Failure events carry the error's name and a one-line reason, whatever the Catch received."""

from __future__ import annotations

import json

import explain_failure


def test_a_failed_job_is_named_by_its_kind_with_sagemakers_reason() -> None:
    described = {"TrainingJobName": "j", "TrainingJobStatus": "Failed",
                 "FailureReason": "AlgorithmError: loss is NaN\nTraceback ...",
                 "HyperParameters": {"lr": "1"} }  # fmt: skip
    name, reason = explain_failure.explain("States.TaskFailed", json.dumps(described))
    assert (name, reason) == ("TrainingJobFailed", "AlgorithmError: loss is NaN Traceback ...")
    stopped = {"ProcessingJobStatus": "Stopped"}
    assert explain_failure.explain("States.TaskFailed", json.dumps(stopped)) == (
        "ProcessingJobStopped", "the job ended Stopped",
    )  # fmt: skip


def test_a_handler_error_keeps_its_class_and_message_without_the_trace() -> None:
    cause = json.dumps({"errorType": "VideoInvalidError", "errorMessage": "not a video",
                        "stackTrace": ["  File x\n", "    raise\n"]})  # fmt: skip
    assert explain_failure.explain("VideoInvalidError", cause) == (
        "VideoInvalidError",
        "not a video",
    )


def test_a_refused_api_call_is_named_by_its_error_code() -> None:
    cause = ("Could not find model data (Service: AmazonSageMaker; Status Code: 400; "
             "Error Code: ValidationException; Request ID: 1f2e)")  # fmt: skip
    assert explain_failure.explain("SageMaker.AmazonSageMakerException", cause) == (
        "SageMaker.ValidationException", "Could not find model data",
    )  # fmt: skip


def test_reasons_are_one_bounded_line() -> None:
    name, reason = explain_failure.explain("States.Runtime", "a\n" * 2000)
    assert name == "States.Runtime" and "\n" not in reason
    assert len(reason) == explain_failure.MAX_REASON
