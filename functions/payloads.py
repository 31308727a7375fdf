"""What each step's handler receives from its state machine (the Task's `Payload`), as models.

The middleware (step.py) parses a handler's payload with its model before the handler runs;
fields a state machine sends that a step does not read are ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from models import Dataset, DeploymentRequest, Meta, TrainingRequest, Video, VideoRequest
from pydantic import BaseModel


class StepPayload(BaseModel):
    """Every step gets the execution's identity and correlation id."""

    meta: Meta


class NormaliseEventPayload(StepPayload):
    workflow: str  # checked by the handler: an unknown one is an InvalidEventError
    event: dict[str, Any] | None = None  # the execution input: an S3 or a request event


class ValidateDatasetPayload(StepPayload):
    request: TrainingRequest


class PlanTrainingPayload(StepPayload):
    dataset: Dataset


class SelectBestPayload(StepPayload):
    tuningJobName: str


class PlanRetrainPayload(StepPayload):
    dataset: Dataset
    best: dict[str, Any]  # SelectBest's {tuningJobName, trainingJobName, hyperparameters, ...}


class RegisterModelPayload(StepPayload):
    trainingJobName: str
    dataset: Dataset
    mode: Literal["training", "tuning"]
    tuning: dict[str, Any] | None = None  # the plan's tuning block ({request}) in tuning mode


class PlanDeploymentPayload(StepPayload):
    request: DeploymentRequest


class DeployEndpointPayload(StepPayload):
    endpointName: str
    endpointConfigName: str
    modelUri: str
    alarms: list[dict[str, Any]]  # the planned PutMetricAlarm requests, put before an update
    deploymentConfig: dict[str, Any]  # UpdateEndpoint's planned DeploymentConfig


class ScaleEndpointPayload(StepPayload):
    scaling: dict[str, Any]  # the planned {target, policy} Application Auto Scaling requests


class IdleEndpointsPayload(StepPayload):
    pass


class CheckEndpointPayload(StepPayload):
    deployed: dict[str, Any]  # DeployEndpoint's answer, with the polls so far
    endpointConfigName: str


class ValidateVideoPayload(StepPayload):
    request: VideoRequest


class PlanProcessingPayload(StepPayload):
    request: VideoRequest
    video: Video


class SummariseResultsPayload(StepPayload):
    videos: list[dict[str, Any]]  # the batch plan's videos, each with its results' URIs
    processingJobName: str


class PlanBatchPayload(StepPayload):
    input: dict[str, Any]  # the scheduler's batch: the admitted events and the batch's id


class QuotaBackoffPayload(StepPayload):
    error: dict[str, Any] | None = None  # the create's Catch: {Error, Cause}
    backoff: dict[str, Any] | None = None  # the previous wait's state, absent on the first


class ExplainFailurePayload(StepPayload):
    workflow: str
    error: dict[str, Any] | None = None  # the Catch's {Error, Cause}
    state: dict[str, Any] | None = None  # the whole state, for the plan a duplicate shares
