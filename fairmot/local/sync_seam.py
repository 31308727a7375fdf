"""SEAM: Step Functions' `arn:aws:states:::sagemaker:<action>[.sync]` tasks as AWS runs them.

moto 5.2.5's interpreter rejects `sagemaker:*.sync` ("Unsupported sync callback procedure").
`install` replaces the task factory `state_task_service_for` so that `sagemaker` tasks use
`StateTaskServiceSageMaker`: request-response calls go to the (mocked) service, and `.sync`
polls `describe_*` until the job is terminal, failing with States.TaskFailed (Cause: the describe
output as JSON, FailureReason included) as the real integration does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from fairmot.local.seam import Patches

_SYNC_JOBS = {
    # API action (snake case) -> (describe action, name parameter, status field)
    "create_training_job": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "create_processing_job": (
        "describe_processing_job",
        "ProcessingJobName",
        "ProcessingJobStatus",
    ),
    "create_hyper_parameter_tuning_job": (
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    "create_transform_job": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
}
_FAILED = {"Failed", "Stopped"}
_TERMINAL = {"Completed", *_FAILED}


def json_safe(value: Any) -> Any:
    """Step Functions returns SageMaker timestamps as epoch milliseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def _service_class() -> type:
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    class StateTaskServiceSageMaker(StateTaskServiceCallback):
        """`arn:aws:states:::sagemaker:<action>[.sync]` as the real integration behaves."""

        def __init__(self) -> None:
            # WaitForTaskToken is listed only so moto builds the callback endpoint its `.sync`
            # loop always tears down (it fails on None otherwise).
            super().__init__(
                supported_integration_patterns=cast(
                    Any, {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken}
                )
            )

        def _get_supported_parameters(self) -> set[str]:
            # Every SageMaker API action is accepted; boto3 validates the parameters.
            return set()

        def _client(self, resource_runtime_part: Any, credentials: Any) -> Any:
            return boto_client_for(
                service="sagemaker",
                region=resource_runtime_part.region,
                state_credentials=credentials,
            )

        def _from_error(self, env: Any, ex: Exception) -> Any:
            if isinstance(ex, ClientError):
                error = ex.response["Error"]
                # The real integration names every SageMaker API error this way.
                name = "SageMaker.AmazonSageMakerException"
                cause = (
                    f"{error.get('Message')} (Service: AmazonSageMaker; Status Code: "
                    f"{ex.response.get('ResponseMetadata', {}).get('HTTPStatusCode', 400)}; "
                    f"Error Code: {error.get('Code')}; Request ID: local)"
                )
                return self._task_failed(env, CustomErrorName(name), cause)
            return super()._from_error(env=env, ex=ex)

        def _task_failed(self, env: Any, error_name: Any, cause: str) -> Any:
            """This task's TaskFailed event, named and explained as the real integration does."""
            return FailureEvent(
                env=env,
                error_name=error_name,
                event_type=HistoryEventType.TaskFailed,
                event_details=cast(Any, EventDetails)(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error_name.error_name,
                        cause=cause,
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )

        def _eval_service_task(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> None:
            client = self._client(resource_runtime_part, state_credentials)
            action = self._get_boto_service_action()
            response = getattr(client, action)(**normalised_parameters)
            response.pop("ResponseMetadata", None)
            env.stack.append(json_safe(response))

        def _build_sync_resolver(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> Callable[[], Any]:
            action = self._get_boto_service_action()
            if action not in _SYNC_JOBS:
                raise RuntimeError(f"Unsupported .sync callback procedure for sagemaker:{action}")
            describe, name_field, status_field = _SYNC_JOBS[action]
            env.stack.pop()  # the create response; the result is the describe output
            client = self._client(resource_runtime_part, state_credentials)
            name = normalised_parameters[name_field]

            def resolve() -> Any:
                described = client.__getattribute__(describe)(**{name_field: name})
                described.pop("ResponseMetadata", None)
                status = described.get(status_field)
                if status not in _TERMINAL:
                    return None
                output = json_safe(described)
                if status in _FAILED:
                    failed = StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
                    raise FailureEventException(self._task_failed(env, failed, json.dumps(output)))
                return output

            return resolve

    return StateTaskServiceSageMaker


def install(patches: Patches) -> None:
    """Route `sagemaker` Task states to StateTaskServiceSageMaker (the `.sync` seam)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_factory,
    )

    service_class = _service_class()
    original = state_task_service_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return service_class()
        return original(service_name)

    patches.patch_attribute(
        state_task_service_factory, "state_task_service_for", state_task_service_for
    )
    patches.patch_attribute(state_task_factory, "state_task_service_for", state_task_service_for)
