"""SEAM: SageMaker hyperparameter tuning jobs, emulated with real child training jobs.

moto 5.2.5 reports a fixed fake best job and lacks
`list_training_jobs_for_hyper_parameter_tuning_job`. This module wraps
`SageMakerModelBackend.create_hyper_parameter_tuning_job`: the tuning job starts InProgress and
a driver thread runs MaxNumberOfTrainingJobs child training jobs, at most
MaxParallelTrainingJobs at a time (and never more than the machine's process slots), each with
hyperparameters proposed by `tuning_search.Search` for the request's Strategy, then reports the
best child by its objective metric, as SageMaker does. It adds the missing list call.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fairmot.local.seam import Patches
from fairmot.local.tuning_search import Search, SearchError

if TYPE_CHECKING:
    from fairmot.local.sagemaker_seam import LocalSageMaker


def _child_request(
    definition: dict[str, Any], name: str, hyperparameters: dict[str, str]
) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": copy.deepcopy(definition.get("AlgorithmSpecification") or {}),
        "RoleArn": definition.get("RoleArn", ""),
        "InputDataConfig": definition.get("InputDataConfig") or [],
        "OutputDataConfig": definition["OutputDataConfig"],
        "ResourceConfig": definition.get("ResourceConfig") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {},
        "Environment": definition.get("Environment") or {},
        "CheckpointConfig": definition.get("CheckpointConfig"),
    }


class TuningRun:
    """One tuning job's driver: proposes, starts and scores its children."""

    def __init__(self, seam: LocalSageMaker, backend: Any, name: str) -> None:
        self.seam, self.backend, self.name = seam, backend, name
        self.tuning = backend.hyper_parameter_tuning_jobs[name]
        config = self.tuning.hyper_parameter_tuning_job_config
        self.definition = (
            self.tuning.training_job_definition or (self.tuning.training_job_definitions or [{}])[0]
        )
        limits = config.get("ResourceLimits") or {}
        self.count = int(limits.get("MaxNumberOfTrainingJobs", 1))
        self.parallel = max(1, int(limits.get("MaxParallelTrainingJobs", 1)))
        self.objective = config.get("HyperParameterTuningJobObjective") or {}
        self.maximize = self.objective.get("Type", "Maximize") == "Maximize"
        self.search = Search(
            config.get("ParameterRanges") or {},
            config.get("Strategy", "Bayesian"),
            config.get("RandomSeed", name),
            self.maximize,
        )
        self.static = {
            k: str(v) for k, v in (self.definition.get("StaticHyperParameters") or {}).items()
        }
        self.counters = dict.fromkeys(
            ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped"), 0
        )
        self.tried: list[tuple[list[float], float | None]] = []
        self.children: list[str] = []
        self.best: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _start_child(self, index: int) -> tuple[int, str]:
        point, tuned = self.search.propose(self.tried)
        digest = hashlib.sha1(f"{self.name}/{index}".encode()).hexdigest()[:8]
        child = f"{self.name}-{index + 1:03d}-{digest}"
        request = _child_request(self.definition, child, {**self.static, **tuned})
        self.seam.register_training_request(self.backend, request)
        job = self.backend.training_jobs[child]
        job.tuning_job_name = self.name
        job.tuned_hyper_parameters = tuned
        with self._lock:
            self.children.append(child)
            self.tried.append((point, None))
            self.counters["InProgress"] += 1
            self.tuning.training_job_status_counters = dict(self.counters)
        return len(self.tried) - 1, child

    def _run_child(self, slot: int, child: str) -> None:
        result = self.seam.run_training(self.backend, child)
        metric = self.objective.get("MetricName")
        value = result.metrics.get(metric) if metric and result.status == "Completed" else None
        with self._lock:
            self.tried[slot] = (self.tried[slot][0], value)
            self.counters["InProgress"] -= 1
            self.counters["Completed" if result.status == "Completed" else "NonRetryableError"] += 1
            self.tuning.training_job_status_counters = dict(self.counters)
            if value is not None and self._better(value):
                self.best = self._summary(child, value)

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        best = self.best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        return value > best if self.maximize else value < best

    def _summary(self, child: str, value: float) -> dict[str, Any]:
        job = self.backend.training_jobs[child]
        return {
            "TrainingJobName": child,
            "TrainingJobArn": job.arn,
            "TuningJobName": self.name,
            "CreationTime": job.creation_time,
            "TrainingStartTime": job.training_start_time,
            "TrainingEndTime": job.training_end_time,
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": job.tuned_hyper_parameters,
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "Type": self.objective.get("Type", "Maximize"),
                "MetricName": self.objective.get("MetricName"),
                "Value": value,
            },
            "ObjectiveStatus": "Succeeded",
        }

    def run(self) -> None:
        """Run every child (at most `parallel` at once), then record the outcome."""
        failure: str | None = None
        with ThreadPoolExecutor(self.parallel, thread_name_prefix=self.name) as pool:
            running: set[Future[None]] = set()
            try:
                for index in range(self.count):
                    if len(running) >= self.parallel:
                        _, running = wait(running, return_when=FIRST_COMPLETED)
                    slot, child = self._start_child(index)
                    running.add(pool.submit(self._run_child, slot, child))
            except SearchError as error:
                failure = f"ClientError: {error}"
            wait(running)
        self._finish(failure)

    def _finish(self, failure: str | None) -> None:
        tuning = self.tuning
        tuning.training_job_status_counters = dict(self.counters)
        tuning.objective_status_counters = {
            "Succeeded": self.counters["Completed"],
            "Pending": 0,
            "Failed": len(self.children) - self.counters["Completed"],
        }
        tuning.hyper_parameter_tuning_end_time = tuning.last_modified_time = datetime.now(UTC)
        tuning.tuning_job_completion_details = None
        tuning.consumed_resources = None
        if failure is None and self.best is None:
            failure = (
                f"No training job succeeded with objective metric "
                f"{self.objective.get('MetricName')}; see the child jobs"
            )
        tuning.hyper_parameter_tuning_job_status = "Failed" if failure else "Completed"
        tuning.failure_reason = failure
        tuning.best_training_job = tuning.OverallBestTrainingJob = self.best

    def summaries(self) -> list[dict[str, Any]]:
        """ListTrainingJobsForHyperParameterTuningJob's answer."""
        found = []
        with self._lock:
            children = list(self.children)
        for child in children:
            job = self.backend.training_jobs[child]
            summary: dict[str, Any] = {
                "TrainingJobName": child,
                "TrainingJobArn": job.arn,
                "TuningJobName": self.name,
                "CreationTime": job.creation_time,
                "TrainingJobStatus": job.training_job_status,
                "TunedHyperParameters": job.tuned_hyper_parameters,
            }
            if job.training_job_status == "Completed":
                summary["TrainingStartTime"] = job.training_start_time
                summary["TrainingEndTime"] = job.training_end_time
            if getattr(job, "failure_reason", None):
                summary["FailureReason"] = job.failure_reason
            for item in job.final_metric_data_list or []:
                if item["MetricName"] == self.objective.get("MetricName"):
                    summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                        "Type": self.objective.get("Type"),
                        "MetricName": item["MetricName"],
                        "Value": item["Value"],
                    }
                    summary["ObjectiveStatus"] = "Succeeded"
            found.append(summary)
        return found


def install(patches: Patches, seam: LocalSageMaker) -> None:
    """Wrap create_hyper_parameter_tuning_job; add the list call moto lacks."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    runs: dict[str, TuningRun] = {}
    original = patches.patch_attribute(
        SageMakerModelBackend, "create_hyper_parameter_tuning_job", None
    )

    def create_hyper_parameter_tuning_job(backend: Any, **kwargs: Any) -> Any:
        from moto.sagemaker.exceptions import ValidationError

        arn = original(backend, **kwargs)
        name = kwargs["hyper_parameter_tuning_job_name"]
        try:
            run = TuningRun(seam, backend, name)
        except SearchError as error:  # as SageMaker, refuse the request rather than fail later
            del backend.hyper_parameter_tuning_jobs[name]
            raise ValidationError(message=str(error)) from error
        tuning = backend.hyper_parameter_tuning_jobs[name]
        tuning.hyper_parameter_tuning_job_status = "InProgress"
        tuning.hyper_parameter_tuning_end_time = None
        tuning.best_training_job = tuning.OverallBestTrainingJob = None
        tuning.failure_reason = None
        runs[name] = run
        seam.start(runs[name].run, name)
        return arn

    def list_training_jobs_for_hyper_parameter_tuning_job(
        backend: Any, hyper_parameter_tuning_job_name: str
    ) -> list[dict[str, Any]]:
        run = runs.get(hyper_parameter_tuning_job_name)
        return run.summaries() if run is not None else []

    def list_response(response: Any) -> Any:
        name = response._get_param("HyperParameterTuningJobName")
        backend = response.sagemaker_backend
        summaries = backend.list_training_jobs_for_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name=name
        )
        return ActionResult({"TrainingJobSummaries": summaries})

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
        SageMakerResponse, "list_training_jobs_for_hyper_parameter_tuning_job", list_response
    )
