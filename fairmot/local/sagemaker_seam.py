"""SEAM: SageMaker training, tuning and processing jobs run for real; `.sync` waits for them.

moto 5.2.5 marks every job Completed at once, writes no artifacts, accepts duplicate names and
fakes tuning results; its Step Functions interpreter rejects `sagemaker:*.sync`. This module:

- wraps `SageMakerModelBackend.create_training_job`, `create_processing_job` and
  `create_hyper_parameter_tuning_job`: a duplicate name fails with ResourceInUse as on AWS; the
  job starts InProgress and a worker thread runs it with `fairmot.local.sagemaker_jobs` (one job
  at a time: the machine is small), then sets Completed/Failed, FailureReason, FinalMetricDataList
  and ModelArtifacts; a tuning job runs its child training jobs one after another with
  hyperparameters spread over the ranges and reports the best by its objective;
- adds `list_training_jobs_for_hyper_parameter_tuning_job`, which moto lacks;
- replaces the Step Functions task factory `state_task_service_for` so that `sagemaker` tasks
  use `StateTaskServiceSageMaker`: request-response calls go to the (mocked) service, and
  `.sync` polls `describe_*` until the job is terminal, failing with States.TaskFailed (Cause:
  the describe output as JSON, FailureReason included) as the real integration does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from fairmot.local.sagemaker_jobs import (
    JobResult,
    LogSink,
    model_artifact_uri,
    run_processing_job,
    run_training_job,
)
from fairmot.local.seam import Patches


@dataclass
class JobSettings:
    """Where jobs keep their folders, how their logs are shown, which client reaches S3."""

    work_dir: Path
    s3_client_factory: Callable[[], Any]
    sink: Callable[[str, str], None] = lambda job, line: None


def _now() -> datetime:
    return datetime.now(UTC)


class JobWorker:
    """Runs queued jobs one at a time on a daemon thread."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="local-sagemaker", daemon=True)
        self._thread.start()
        self.idle = threading.Event()
        self.idle.set()
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            self.idle.clear()
        self._queue.put(work)

    def _loop(self) -> None:
        while True:
            work = self._queue.get()
            try:
                work()
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self.idle.set()


def _discard(_: object) -> None:
    return None


def _metric_list(metrics: dict[str, float]) -> list[dict[str, Any]]:
    return [{"MetricName": k, "Value": v, "Timestamp": _now()} for k, v in metrics.items()]


def _tuned_values(ranges: dict[str, Any], index: int, count: int) -> dict[str, str]:
    """Hyperparameters for child `index` of `count`: evenly spread over every range.

    SageMaker's Bayesian search is not reproducible offline; an even spread is deterministic and
    with 2+ jobs always tries both ends of each range.
    """
    fraction = index / (count - 1) if count > 1 else 0.5
    values: dict[str, str] = {}
    for spec in ranges.get("ContinuousParameterRanges") or []:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        if spec.get("ScalingType") in ("Logarithmic", "ReverseLogarithmic") and low > 0:
            value = math.exp(math.log(low) + fraction * (math.log(high) - math.log(low)))
        else:
            value = low + fraction * (high - low)
        values[spec["Name"]] = f"{value:.6g}"
    for spec in ranges.get("IntegerParameterRanges") or []:
        low_i, high_i = int(spec["MinValue"]), int(spec["MaxValue"])
        values[spec["Name"]] = str(round(low_i + fraction * (high_i - low_i)))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        options = spec["Values"]
        values[spec["Name"]] = str(options[index % len(options)])
    return values


def _training_request_from_definition(
    definition: dict[str, Any], name: str, hyperparameters: dict[str, str]
) -> dict[str, Any]:
    algorithm = copy.deepcopy(definition.get("AlgorithmSpecification") or {})
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": algorithm,
        "RoleArn": definition.get("RoleArn", ""),
        "InputDataConfig": definition.get("InputDataConfig") or [],
        "OutputDataConfig": definition["OutputDataConfig"],
        "ResourceConfig": definition.get("ResourceConfig") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {},
        "Environment": definition.get("Environment") or {},
        "CheckpointConfig": definition.get("CheckpointConfig"),
    }


class LocalSageMaker:
    """The state and the patches of the SageMaker seam."""

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self.worker = JobWorker()
        self.requests: dict[str, dict[str, Any]] = {}  # training job name -> its request
        self.tuning_children: dict[str, list[str]] = {}

    # ---- running -------------------------------------------------------------------------
    def _sink(self, job: str) -> LogSink:
        return lambda line: self.settings.sink(job, line)

    def _run_training(self, backend: Any, name: str) -> JobResult:
        request = self.requests[name]
        job = backend.training_jobs[name]
        definitions = request["AlgorithmSpecification"].get("MetricDefinitions") or []
        if not definitions:
            from fairmot.train.metrics import METRIC_DEFINITIONS

            definitions = METRIC_DEFINITIONS
        job.secondary_status = "Training"
        job.training_start_time = _now()
        try:
            result = run_training_job(
                self.settings.s3_client_factory(),
                request,
                self.settings.work_dir / "training" / name,
                metric_definitions=definitions,
                sink=self._sink(name),
            )
        except Exception as error:  # an infrastructure problem still ends the job, as on AWS
            result = JobResult("Failed", f"InternalServerError: {type(error).__name__}: {error}")
        job.training_job_status = result.status
        job.secondary_status = result.status
        job.training_end_time = job.last_modified_time = _now()
        job.final_metric_data_list = _metric_list(result.metrics)
        if result.status == "Failed":
            job.failure_reason = result.failure_reason
            job.model_artifacts = None
        return result

    def _run_processing(self, backend: Any, name: str, request: dict[str, Any]) -> None:
        job = backend.processing_jobs[name]
        job.processing_start_time = _now()
        try:
            result = run_processing_job(
                self.settings.s3_client_factory(),
                request,
                self.settings.work_dir / "processing" / name,
                sink=self._sink(name),
            )
        except Exception as error:
            result = JobResult("Failed", f"InternalServerError: {type(error).__name__}: {error}")
        job.processing_job_status = result.status
        job.processing_end_time = job.last_modified_time = _now()
        if result.status == "Failed":
            job.failure_reason = result.failure_reason
            job.exit_message = result.failure_reason

    def _run_tuning(self, backend: Any, name: str) -> None:
        tuning = backend.hyper_parameter_tuning_jobs[name]
        config = tuning.hyper_parameter_tuning_job_config
        definition = tuning.training_job_definition or (tuning.training_job_definitions or [{}])[0]
        count = int(config.get("ResourceLimits", {}).get("MaxNumberOfTrainingJobs", 1))
        objective = config.get("HyperParameterTuningJobObjective") or {}
        metric = objective.get("MetricName")
        maximize = objective.get("Type", "Maximize") == "Maximize"
        static = {k: str(v) for k, v in (definition.get("StaticHyperParameters") or {}).items()}
        ranges = config.get("ParameterRanges") or {}
        counters = {
            "Completed": 0,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        }
        best: dict[str, Any] | None = None
        best_value = 0.0
        for index in range(count):
            tuned = _tuned_values(ranges, index, count)
            digest = hashlib.sha1(f"{name}/{index}".encode()).hexdigest()[:8]
            child = f"{name}-{index + 1:03d}-{digest}"
            request = _training_request_from_definition(definition, child, {**static, **tuned})
            create_training_job_from_request(backend, request, self)
            self.tuning_children.setdefault(name, []).append(child)
            backend.training_jobs[child].tuning_job_name = name
            backend.training_jobs[child].tuned_hyper_parameters = tuned
            counters["InProgress"] = 1
            tuning.training_job_status_counters = dict(counters)
            result = self._run_training(backend, child)
            counters["InProgress"] = 0
            counters["Completed" if result.status == "Completed" else "NonRetryableError"] += 1
            value = result.metrics.get(metric) if metric else None
            if (
                result.status == "Completed"
                and value is not None
                and (best is None or (value > best_value if maximize else value < best_value))
            ):
                job = backend.training_jobs[child]
                best_value = value
                best = {
                    "TrainingJobName": child,
                    "TrainingJobArn": job.arn,
                    "TuningJobName": name,
                    "CreationTime": job.creation_time,
                    "TrainingStartTime": job.training_start_time,
                    "TrainingEndTime": job.training_end_time,
                    "TrainingJobStatus": "Completed",
                    "TunedHyperParameters": tuned,
                    "FinalHyperParameterTuningJobObjectiveMetric": {
                        "Type": objective.get("Type", "Maximize"),
                        "MetricName": metric,
                        "Value": value,
                    },
                    "ObjectiveStatus": "Succeeded",
                }
        tuning.training_job_status_counters = counters
        tuning.objective_status_counters = {
            "Succeeded": counters["Completed"],
            "Pending": 0,
            "Failed": count - counters["Completed"],
        }
        tuning.hyper_parameter_tuning_end_time = tuning.last_modified_time = _now()
        tuning.tuning_job_completion_details = None
        tuning.consumed_resources = None
        if best is None:
            tuning.hyper_parameter_tuning_job_status = "Failed"
            tuning.failure_reason = (
                f"No training job succeeded with objective metric {metric}; see the child jobs"
            )
            tuning.best_training_job = tuning.OverallBestTrainingJob = None
        else:
            tuning.hyper_parameter_tuning_job_status = "Completed"
            tuning.failure_reason = None
            tuning.best_training_job = tuning.OverallBestTrainingJob = best

    # ---- patches -------------------------------------------------------------------------
    def install(self, patches: Patches) -> None:
        from moto.sagemaker.exceptions import ResourceInUseException
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse

        seam = self
        original_training = patches.patch_attribute(
            SageMakerModelBackend, "create_training_job", None
        )
        original_processing = patches.patch_attribute(
            SageMakerModelBackend, "create_processing_job", None
        )
        original_tuning = patches.patch_attribute(
            SageMakerModelBackend, "create_hyper_parameter_tuning_job", None
        )
        self._original_training = original_training

        def create_training_job(backend: Any, **kwargs: Any) -> Any:
            name = kwargs["training_job_name"]
            if name in backend.training_jobs:
                raise ResourceInUseException(
                    message=f"Training job names must be unique within an AWS account and "
                    f"region, and a training job with this name already exists ({name})"
                )
            request = _request_from_kwargs(kwargs)
            request["Environment"] = _current_params().get("Environment") or {}
            job = seam._create_training(backend, request, kwargs)
            seam.worker.submit(lambda: _discard(seam._run_training(backend, name)))
            return job

        def create_processing_job(backend: Any, **kwargs: Any) -> Any:
            name = kwargs["processing_job_name"]
            if name in backend.processing_jobs:
                raise ResourceInUseException(
                    message=f"Processing job names must be unique within an AWS account and "
                    f"region, and a processing job with this name already exists ({name})"
                )
            request = {
                "ProcessingJobName": name,
                "ProcessingInputs": copy.deepcopy(kwargs.get("processing_inputs")),
                "ProcessingOutputConfig": copy.deepcopy(kwargs.get("processing_output_config")),
                "AppSpecification": copy.deepcopy(kwargs.get("app_specification")),
                "Environment": _current_params().get("Environment") or {},
            }
            job = original_processing(backend, **kwargs)
            job.processing_job_status = "InProgress"
            job.processing_end_time = None
            seam.worker.submit(lambda: seam._run_processing(backend, name, request))
            return job

        def create_hyper_parameter_tuning_job(backend: Any, **kwargs: Any) -> Any:
            arn = original_tuning(backend, **kwargs)
            name = kwargs["hyper_parameter_tuning_job_name"]
            tuning = backend.hyper_parameter_tuning_jobs[name]
            tuning.hyper_parameter_tuning_job_status = "InProgress"
            tuning.hyper_parameter_tuning_end_time = None
            tuning.best_training_job = tuning.OverallBestTrainingJob = None
            tuning.failure_reason = None
            seam.worker.submit(lambda: seam._run_tuning(backend, name))
            return arn

        def list_training_jobs_for_hyper_parameter_tuning_job(
            backend: Any, hyper_parameter_tuning_job_name: str
        ) -> list[dict[str, Any]]:
            summaries = []
            for child in seam.tuning_children.get(hyper_parameter_tuning_job_name, []):
                job = backend.training_jobs[child]
                metric = None
                best = backend.hyper_parameter_tuning_jobs[hyper_parameter_tuning_job_name]
                objective = best.hyper_parameter_tuning_job_config.get(
                    "HyperParameterTuningJobObjective", {}
                )
                for item in job.final_metric_data_list or []:
                    if item["MetricName"] == objective.get("MetricName"):
                        metric = {
                            "Type": objective.get("Type"),
                            "MetricName": item["MetricName"],
                            "Value": item["Value"],
                        }
                summary = {
                    "TrainingJobName": child,
                    "TrainingJobArn": job.arn,
                    "TuningJobName": hyper_parameter_tuning_job_name,
                    "CreationTime": job.creation_time,
                    "TrainingJobStatus": job.training_job_status,
                    "TunedHyperParameters": getattr(job, "tuned_hyper_parameters", {}),
                }
                if job.training_job_status == "Completed":
                    summary["TrainingStartTime"] = job.training_start_time
                    summary["TrainingEndTime"] = job.training_end_time
                if getattr(job, "failure_reason", None):
                    summary["FailureReason"] = job.failure_reason
                if metric:
                    summary["FinalHyperParameterTuningJobObjectiveMetric"] = metric
                    summary["ObjectiveStatus"] = "Succeeded"
                summaries.append(summary)
            return summaries

        def list_training_jobs_for_hyper_parameter_tuning_job_response(response: Any) -> Any:
            from moto.core.responses import ActionResult

            name = response._get_param("HyperParameterTuningJobName")
            summaries = (
                response.sagemaker_backend.list_training_jobs_for_hyper_parameter_tuning_job(
                    hyper_parameter_tuning_job_name=name
                )
            )
            return ActionResult({"TrainingJobSummaries": summaries})

        for action in ("create_training_job", "create_processing_job"):
            patches.patch_attribute(
                SageMakerResponse, action, _remember_params(getattr(SageMakerResponse, action))
            )
        patches.patch_attribute(SageMakerModelBackend, "create_training_job", create_training_job)
        patches.patch_attribute(
            SageMakerModelBackend, "create_processing_job", create_processing_job
        )
        patches.patch_attribute(
            SageMakerModelBackend,
            "create_hyper_parameter_tuning_job",
            create_hyper_parameter_tuning_job,
        )
        patches.add_attribute(
            SageMakerModelBackend,
            "list_training_jobs_for_hyper_parameter_tuning_job",
            list_training_jobs_for_hyper_parameter_tuning_job,
        )
        patches.add_attribute(
            SageMakerResponse,
            "list_training_jobs_for_hyper_parameter_tuning_job",
            list_training_jobs_for_hyper_parameter_tuning_job_response,
        )
        install_sync(patches)

    def _create_training(
        self, backend: Any, request: dict[str, Any], kwargs: dict[str, Any]
    ) -> Any:
        job = self._original_training(backend, **kwargs)
        # moto overwrites MetricDefinitions with a sample; the job keeps its own.
        job.algorithm_specification = copy.deepcopy(request["AlgorithmSpecification"])
        job.training_job_status = "InProgress"
        job.secondary_status = "Starting"
        job.training_start_time = job.training_end_time = None
        job.final_metric_data_list = None
        job.model_artifacts = {"S3ModelArtifacts": model_artifact_uri(request)}
        self.requests[request["TrainingJobName"]] = request
        return job


_request_params = threading.local()


def _remember_params(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Keep the whole API request: moto's backend drops fields (Environment) that jobs need."""

    def wrapped(response: Any) -> Any:
        _request_params.value = response._get_params()
        try:
            return handler(response)
        finally:
            _request_params.value = {}

    return wrapped


def _current_params() -> dict[str, Any]:
    return getattr(_request_params, "value", None) or {}


_KWARG_NAMES = {
    "training_job_name": "TrainingJobName",
    "hyper_parameters": "HyperParameters",
    "algorithm_specification": "AlgorithmSpecification",
    "role_arn": "RoleArn",
    "input_data_config": "InputDataConfig",
    "output_data_config": "OutputDataConfig",
    "resource_config": "ResourceConfig",
    "stopping_condition": "StoppingCondition",
    "checkpoint_config": "CheckpointConfig",
    "environment": "Environment",
}


def _request_from_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    request = {api: copy.deepcopy(kwargs.get(name)) for name, api in _KWARG_NAMES.items()}
    request["AlgorithmSpecification"] = request["AlgorithmSpecification"] or {}
    request["HyperParameters"] = request["HyperParameters"] or {}
    return request


def create_training_job_from_request(
    backend: Any, request: dict[str, Any], seam: LocalSageMaker
) -> Any:
    """Register a tuning child as a training job (moto's create with our bookkeeping)."""
    names = {api: name for name, api in _KWARG_NAMES.items()}
    kwargs: dict[str, Any] = {
        name: None
        for name in (
            "vpc_config",
            "tags",
            "debug_hook_config",
            "debug_rule_configurations",
            "tensor_board_output_config",
            "experiment_config",
        )
    }
    kwargs.update(
        enable_network_isolation=False,
        enable_inter_container_traffic_encryption=False,
        enable_managed_spot_training=False,
    )
    for api, value in request.items():
        if api in names and api != "Environment":
            kwargs[names[api]] = copy.deepcopy(value)
    return seam._create_training(backend, request, kwargs)


# ---- Step Functions `.sync` -----------------------------------------------------------------

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
                return FailureEvent(
                    env=env,
                    error_name=CustomErrorName(name),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=cast(Any, EventDetails)(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=name,
                            cause=cause,
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                        )
                    ),
                )
            return super()._from_error(env=env, ex=ex)

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
                    raise FailureEventException(
                        FailureEvent(
                            env=env,
                            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                            event_type=HistoryEventType.TaskFailed,
                            event_details=cast(Any, EventDetails)(
                                taskFailedEventDetails=TaskFailedEventDetails(
                                    resource=self._get_sfn_resource(),
                                    resourceType=self._get_sfn_resource_type(),
                                    error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                    cause=json.dumps(output),
                                )
                            ),
                        )
                    )
                return output

            return resolve

    return StateTaskServiceSageMaker


def install_sync(patches: Patches) -> None:
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
