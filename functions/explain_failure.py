"""Every workflow's Catch lands here: name the error, say why in one line, spot a lost race.

Step Functions hands a Catch `{"Error", "Cause"}`: for a Lambda the cause is the handler's error
as JSON with a stack trace; for a `.sync` job it is the whole Describe*Job output (~2 kB) with
`FailureReason` inside; for a refused SageMaker call it is the API message. Consumers of the
failure events get the error's name and that one-line reason as fields instead.

EventBridge delivers at least once and names executions at random, so two deliveries of one event
can both find no job and both create it: SageMaker refuses the second create because the name
exists. That execution lost a race to its twin, which runs the job; it ends quietly (duplicate),
with no failure event and no alarm.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from payloads import ExplainFailurePayload
from plan_training import job_exists
from step import logger, metrics, pipeline_step

# Failure events stay small and readable: one line, at most this long.
MAX_REASON = 1024
# How the SageMaker integration names a refused API call (the code is in the cause text).
SAGEMAKER_API_ERROR = "SageMaker.AmazonSageMakerException"
_API_CAUSE = re.compile(
    r"^(?P<message>.*?)\s*\(Service: [^;]*; Status Code: \d+; Error Code: (?P<code>\w+)"
)
# Describe*Job status field -> the name of its failure.
_JOB_KINDS = {
    "TrainingJobStatus": "TrainingJob",
    "ProcessingJobStatus": "ProcessingJob",
    "HyperParameterTuningJobStatus": "TuningJob",
}


def one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_REASON]


def explain(error: str, cause: str) -> tuple[str, str]:
    """(error name, one-line reason) from a Catch's Error and Cause."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:  # a Lambda handler's error
        return str(parsed.get("errorType") or error), one_line(str(parsed["errorMessage"]))
    if isinstance(parsed, dict):  # a .sync job's Describe output
        for field, kind in _JOB_KINDS.items():
            if field in parsed:
                status = str(parsed[field])
                reason = parsed.get("FailureReason") or f"the job ended {status}"
                return f"{kind}{status}", one_line(str(reason))
    api = _API_CAUSE.match(cause)
    if api:
        return f"SageMaker.{api['code']}", one_line(api["message"])
    return error, one_line(cause) or error


def planned_names(
    workflow: str, plan: dict[str, Any] | None
) -> list[tuple[Callable[..., Any], dict[str, str]]]:
    """(Describe call, name argument) for each resource the workflow's plan creates."""
    if not plan:
        return []
    sagemaker = client("sagemaker")
    found: list[tuple[Callable[..., Any], dict[str, str]]] = []
    if workflow == "training":
        if plan.get("training"):
            name = plan["training"]["request"]["TrainingJobName"]
            found.append((sagemaker.describe_training_job, {"TrainingJobName": name}))
        if plan.get("tuning"):
            name = plan["tuning"]["request"]["HyperParameterTuningJobName"]
            found.append(
                (sagemaker.describe_hyper_parameter_tuning_job,
                 {"HyperParameterTuningJobName": name})
            )  # fmt: skip
    elif workflow == "batch" and plan.get("request"):
        name = plan["request"]["ProcessingJobName"]
        found.append((sagemaker.describe_processing_job, {"ProcessingJobName": name}))
    elif workflow == "deploy":
        if plan.get("model"):
            found.append((sagemaker.describe_model, {"ModelName": plan["model"]["ModelName"]}))
        if plan.get("endpointConfig"):
            name = plan["endpointConfig"]["EndpointConfigName"]
            found.append((sagemaker.describe_endpoint_config, {"EndpointConfigName": name}))
    return found


def lost_race(workflow: str, error: str, cause: str, plan: dict[str, Any] | None) -> bool:
    """A create refused because its name exists, and the resource is there: a twin made it."""
    if error != SAGEMAKER_API_ERROR or "already exist" not in cause.lower():
        return False
    return any(job_exists(describe, **name) for describe, name in planned_names(workflow, plan))


@pipeline_step(payload=ExplainFailurePayload)
def handler(event: ExplainFailurePayload, context: LambdaContext) -> dict[str, Any]:
    """-> {duplicate, error, reason}."""
    caught = event.error or {}
    error, cause = str(caught.get("Error", "")), str(caught.get("Cause", ""))
    plan = (event.state or {}).get("plan")
    duplicate = lost_race(event.workflow, error, cause, plan)
    name, reason = explain(error, cause)
    if duplicate:
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        logger.info("lost a race to a duplicate delivery", extra={"reason": reason})
    else:
        logger.info("workflow failed", extra={"error": name, "reason": reason})
    return {"duplicate": duplicate, "error": name, "reason": reason}
