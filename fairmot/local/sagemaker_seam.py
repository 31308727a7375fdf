"""SEAM: SageMaker training and processing jobs run for real, as local processes.

moto 5.2.5 marks every job Completed at once, writes no artifacts and accepts duplicate names.
This module wraps `SageMakerModelBackend.create_training_job` and `create_processing_job`: a
duplicate name fails with ResourceInUse as on AWS; the job starts InProgress and a thread runs it
with `fairmot.local.sagemaker_jobs` once one of the machine's process slots is free (at most
`JobSettings.max_processes` jobs at a time), then sets Completed/Failed, FailureReason,
FinalMetricDataList and ModelArtifacts. Tuning jobs are `tuning_seam`'s, `.sync` is `sync_seam`'s.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fairmot.local import sync_seam, tuning_seam
from fairmot.local.quota_seam import ProcessingQuota
from fairmot.local.sagemaker_jobs import (
    JobResult,
    LogSink,
    model_artifact_uri,
    run_processing_job,
    run_training_job,
)
from fairmot.local.seam import Patches

MAX_PROCESSES_VARIABLE = "FAIRMOT_LOCAL_MAX_JOBS"
# Each job is a training or processing process with its own threads: two fit a small machine.
DEFAULT_MAX_PROCESSES = 2


def _default_max_processes() -> int:
    value = os.environ.get(MAX_PROCESSES_VARIABLE) or str(DEFAULT_MAX_PROCESSES)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{MAX_PROCESSES_VARIABLE}={value!r}: give a whole number >= 1")
    return int(value)


@dataclass
class JobSettings:
    """Where jobs keep their folders, how their logs are shown, which client reaches S3, and how
    many job processes may run at once."""

    work_dir: Path
    s3_client_factory: Callable[[], Any]
    sink: Callable[[str, str], None] = lambda job, line: None
    max_processes: int = field(default_factory=_default_max_processes)


def now() -> datetime:
    return datetime.now(UTC)


def _metric_list(metrics: dict[str, float]) -> list[dict[str, Any]]:
    return [{"MetricName": k, "Value": v, "Timestamp": now()} for k, v in metrics.items()]


def _infrastructure_failure(error: Exception) -> JobResult:
    return JobResult("Failed", f"InternalServerError: {type(error).__name__}: {error}")


class LocalSageMaker:
    """The state and the patches of the SageMaker seam."""

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self.slots = threading.BoundedSemaphore(settings.max_processes)
        self.requests: dict[str, dict[str, Any]] = {}  # training job name -> its request
        self.quota = ProcessingQuota()
        self._original_training: Callable[..., Any] | None = None

    def start(self, work: Callable[[], object], name: str) -> None:
        """Run `work` on its own thread (jobs wait for a process slot inside it)."""
        threading.Thread(target=work, name=f"local-sagemaker-{name}", daemon=True).start()

    def _sink(self, job: str) -> LogSink:
        return lambda line: self.settings.sink(job, line)

    def run_training(self, backend: Any, name: str) -> JobResult:
        """Run a registered training job to its end (blocking; takes a process slot)."""
        request = self.requests[name]
        job = backend.training_jobs[name]
        definitions = request["AlgorithmSpecification"].get("MetricDefinitions") or []
        if not definitions:
            from fairmot.train.metrics import METRIC_DEFINITIONS

            definitions = METRIC_DEFINITIONS
        with self.slots:
            job.secondary_status = "Training"
            job.training_start_time = now()
            try:
                result = run_training_job(
                    self.settings.s3_client_factory(),
                    request,
                    self.settings.work_dir / "training" / name,
                    metric_definitions=definitions,
                    sink=self._sink(name),
                )
            except Exception as error:  # an infrastructure problem still ends the job, as on AWS
                result = _infrastructure_failure(error)
        job.training_job_status = result.status
        job.secondary_status = result.status
        job.training_end_time = job.last_modified_time = now()
        job.final_metric_data_list = _metric_list(result.metrics)
        if result.status == "Failed":
            job.failure_reason = result.failure_reason
            job.model_artifacts = None
        return result

    def _run_processing(self, backend: Any, name: str, request: dict[str, Any]) -> None:
        job = backend.processing_jobs[name]
        with self.slots:
            job.processing_start_time = now()
            try:
                result = run_processing_job(
                    self.settings.s3_client_factory(),
                    request,
                    self.settings.work_dir / "processing" / name,
                    sink=self._sink(name),
                )
            except Exception as error:
                result = _infrastructure_failure(error)
        job.processing_job_status = result.status
        job.processing_end_time = job.last_modified_time = now()
        if result.status == "Failed":
            job.failure_reason = result.failure_reason
            job.exit_message = result.failure_reason

    def register_training(
        self, backend: Any, request: dict[str, Any], kwargs: dict[str, Any]
    ) -> Any:
        """Create the job in moto, InProgress, with the request kept for running it."""
        assert self._original_training is not None, "install() first"
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

    def register_training_request(self, backend: Any, request: dict[str, Any]) -> Any:
        """Register a tuning child as a training job (moto's create with our bookkeeping)."""
        names = {api: name for name, api in KWARG_NAMES.items()}
        kwargs: dict[str, Any] = dict.fromkeys(
            ("vpc_config", "tags", "debug_hook_config", "debug_rule_configurations",
             "tensor_board_output_config", "experiment_config"),
        )  # fmt: skip
        kwargs.update(
            enable_network_isolation=False,
            enable_inter_container_traffic_encryption=False,
            enable_managed_spot_training=False,
        )
        for api, value in request.items():
            if api in names and api != "Environment":
                kwargs[names[api]] = copy.deepcopy(value)
        return self.register_training(backend, request, kwargs)

    # ---- patches -------------------------------------------------------------------------
    def install(self, patches: Patches) -> None:
        from moto.sagemaker.exceptions import ResourceInUseException
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse

        seam = self
        self._original_training = patches.patch_attribute(
            SageMakerModelBackend, "create_training_job", None
        )
        original_processing = patches.patch_attribute(
            SageMakerModelBackend, "create_processing_job", None
        )

        def refuse_taken(kind: str, name: str, jobs: dict[str, Any]) -> None:
            if name in jobs:
                raise ResourceInUseException(
                    message=f"{kind.capitalize()} job names must be unique within an AWS account "
                    f"and region, and a {kind} job with this name already exists ({name})"
                )

        def create_training_job(backend: Any, **kwargs: Any) -> Any:
            name = kwargs["training_job_name"]
            refuse_taken("training", name, backend.training_jobs)
            request = copy.deepcopy(_current_params())
            job = seam.register_training(backend, request, kwargs)
            seam.start(lambda: seam.run_training(backend, name), name)
            return job

        def create_processing_job(backend: Any, **kwargs: Any) -> Any:
            name = kwargs["processing_job_name"]
            refuse_taken("processing", name, backend.processing_jobs)
            request = {
                "ProcessingJobName": name,
                "ProcessingInputs": copy.deepcopy(kwargs.get("processing_inputs")),
                "ProcessingOutputConfig": copy.deepcopy(kwargs.get("processing_output_config")),
                "AppSpecification": copy.deepcopy(kwargs.get("app_specification")),
                "Environment": _current_params().get("Environment") or {},
            }
            resources = _current_params().get("ProcessingResources") or {}
            with seam.quota.lock:  # ResourceLimitExceeded past the account's quota, as on AWS
                seam.quota.admit(backend, name, resources["ClusterConfig"]["InstanceType"])
                job = original_processing(backend, **kwargs)
                job.processing_job_status = "InProgress"
            job.processing_end_time = None
            seam.start(lambda: seam._run_processing(backend, name, request), name)
            return job

        for action in ("create_training_job", "create_processing_job"):
            patches.patch_attribute(
                SageMakerResponse, action, _remember_params(getattr(SageMakerResponse, action))
            )
        patches.patch_attribute(SageMakerModelBackend, "create_training_job", create_training_job)
        patches.patch_attribute(
            SageMakerModelBackend, "create_processing_job", create_processing_job
        )
        tuning_seam.install(patches, self)
        sync_seam.install(patches)


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


# moto's backend keywords -> CreateTrainingJob's names: a tuning child is created with them.
KWARG_NAMES = {
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
