"""A SageMaker Python SDK `ModelTrainer` and `HyperparameterTuner` for a dataset in S3.

Both are built from the request the stack's training Lambda builds for the same dataset
(`training_requests.training_job_request` / `tuning_job_request`, through fairmot.sdk.contracts),
so image, channels, hyperparameters, metric definitions, checkpoints, spot and limits are the
stack's. The SDK adds a timestamp to the trainer's job name (a notebook rerun is a new job); the
tuning job keeps the stack's deterministic name (runId salts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fairmot.sdk.contracts import (
    MAX_TUNING_JOB_NAME,
    Dataset,
    DatasetManifest,
    Meta,
    S3Object,
    TrainingSettings,
    TuningSpec,
    hyperparameters,
    object_name,
    parse_s3_uri,
    training_job_request,
    tuning_job_request,
)

# Who started the job, in the tags the stack puts on every job (operators search by them).
NOTEBOOK_META = Meta(
    executionArn="arn:aws:states:::execution:notebook:sdk", correlationId="notebook"
)
DEFAULT_PREFIX = "fairmot-dev"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset uploaded under s3://bucket/datasets/<name>/ with its manifest."""

    uri: str  # s3://bucket/datasets/<name>/
    manifest: DatasetManifest
    etag: str = ""
    run_id: str = ""

    def to_dataset(self, overrides: dict[str, str] | None = None) -> Dataset:
        """The typed dataset the Lambdas pass between steps (request overrides applied)."""
        bucket, prefix = parse_s3_uri(self.uri if self.uri.endswith("/") else self.uri + "/")
        return Dataset(
            name=self.manifest.name,
            uri=f"s3://{bucket}/{prefix}",
            manifest=S3Object(bucket=bucket, key=f"{prefix}manifest.json", etag=self.etag),
            sequences=self.manifest.sequences,
            hyperparameters={**self.manifest.hyperparameters, **(overrides or {})},
            tuning=self.manifest.tuning,
            deploy=self.manifest.deploy,
            runId=self.run_id,
        )


def job_name(dataset: Dataset, kind: str, prefix: str = DEFAULT_PREFIX, limit: int = 63) -> str:
    """The stack's deterministic name for this dataset version (plan_training's rule)."""
    m = dataset.manifest
    return object_name(
        prefix, kind, dataset.name,
        bucket=m.bucket, key=m.key, etag=m.etag, salt=dataset.runId, limit=limit,
    )  # fmt: skip


def training_request(
    settings: TrainingSettings, dataset: Dataset, prefix: str = DEFAULT_PREFIX
) -> dict[str, Any]:
    """The CreateTrainingJob request the stack would make for `dataset`."""
    name = job_name(dataset, "train", prefix)
    hps = hyperparameters(settings, dataset)
    return training_job_request(name, settings, dataset, hps, NOTEBOOK_META)


def tuning_request(
    settings: TrainingSettings, dataset: Dataset, prefix: str = DEFAULT_PREFIX
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request the stack would make for `dataset`."""
    if dataset.tuning is None:
        dataset = dataset.model_copy(update={"tuning": TuningSpec()})
    name = job_name(dataset, "hpo", prefix, MAX_TUNING_JOB_NAME)
    return tuning_job_request(name, settings, dataset, NOTEBOOK_META)


def _channels(request_inputs: list[dict[str, Any]]) -> list[Any]:
    from sagemaker.core.shapes import Channel, DataSource, S3DataSource

    channels = []
    for channel in request_inputs:
        s3 = channel["DataSource"]["S3DataSource"]
        channels.append(
            Channel(
                channel_name=channel["ChannelName"],
                input_mode=channel["InputMode"],
                data_source=DataSource(
                    s3_data_source=S3DataSource(
                        s3_data_type=s3["S3DataType"],
                        s3_uri=s3["S3Uri"],
                        s3_data_distribution_type=s3["S3DataDistributionType"],
                    )
                ),
            )
        )
    return channels


def _tags(request_tags: list[dict[str, str]]) -> list[Any]:
    from sagemaker.core.shapes import Tag

    return [Tag(key=t["Key"], value=t["Value"]) for t in request_tags]


def trainer_from_request(request: dict[str, Any], session: Any) -> Any:
    """A `ModelTrainer` that sends `request` (all but the job name, which the SDK stamps)."""
    from sagemaker.core.shapes import MetricDefinition
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.train import ModelTrainer

    algorithm = request["AlgorithmSpecification"]
    resources = request["ResourceConfig"]
    stopping = request["StoppingCondition"]
    checkpoint = request.get("CheckpointConfig")
    trainer = ModelTrainer(
        sagemaker_session=session,
        role=request["RoleArn"],
        base_job_name=request["TrainingJobName"],
        training_image=algorithm["TrainingImage"],
        training_input_mode=algorithm["TrainingInputMode"],
        compute=Compute(
            instance_type=resources["InstanceType"],
            instance_count=resources["InstanceCount"],
            volume_size_in_gb=resources["VolumeSizeInGB"],
            enable_managed_spot_training=request["EnableManagedSpotTraining"],
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=stopping["MaxRuntimeInSeconds"],
            max_wait_time_in_seconds=stopping.get("MaxWaitTimeInSeconds"),
        ),
        hyperparameters=dict(request["HyperParameters"]),
        input_data_config=_channels(request["InputDataConfig"]),
        output_data_config=OutputDataConfig(
            s3_output_path=request["OutputDataConfig"]["S3OutputPath"]
        ),
        checkpoint_config=CheckpointConfig(
            s3_uri=checkpoint["S3Uri"], local_path=checkpoint["LocalPath"]
        )
        if checkpoint
        else None,
        tags=_tags(request["Tags"]),
        environment=dict(request.get("Environment", {})),
    )
    return trainer.with_metric_definitions(
        [MetricDefinition(name=m["Name"], regex=m["Regex"]) for m in algorithm["MetricDefinitions"]]
    )


def build_trainer(
    settings: TrainingSettings, dataset: Dataset, session: Any, prefix: str = DEFAULT_PREFIX
) -> Any:
    """The stack's training job for `dataset` as a `ModelTrainer`; `.train()` starts it."""
    return trainer_from_request(training_request(settings, dataset, prefix), session)


def _ranges(parameter_ranges: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    from sagemaker.core.parameter import (
        CategoricalParameter,
        ContinuousParameter,
        IntegerParameter,
    )

    ranges: dict[str, Any] = {}
    for body in parameter_ranges["ContinuousParameterRanges"]:
        ranges[body["Name"]] = ContinuousParameter(
            body["MinValue"], body["MaxValue"], scaling_type=body["ScalingType"]
        )
    for body in parameter_ranges["IntegerParameterRanges"]:
        ranges[body["Name"]] = IntegerParameter(
            body["MinValue"], body["MaxValue"], scaling_type=body["ScalingType"]
        )
    for body in parameter_ranges["CategoricalParameterRanges"]:
        ranges[body["Name"]] = CategoricalParameter(body["Values"])
    return ranges


def build_tuner(
    settings: TrainingSettings, dataset: Dataset, session: Any, prefix: str = DEFAULT_PREFIX
) -> tuple[Any, str]:
    """The stack's tuning job for `dataset`: (`HyperparameterTuner`, job name for `.tune()`)."""
    from sagemaker.train.tuner import HyperparameterTuner

    request = tuning_request(settings, dataset, prefix)
    config = request["HyperParameterTuningJobConfig"]
    definition = request["TrainingJobDefinition"]
    child = {
        **definition,
        "TrainingJobName": request["HyperParameterTuningJobName"],
        "HyperParameters": definition["StaticHyperParameters"],
        "Tags": request["Tags"],
    }
    trainer = trainer_from_request(child, session)
    limits = config["ResourceLimits"]
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name=config["HyperParameterTuningJobObjective"]["MetricName"],
        objective_type=config["HyperParameterTuningJobObjective"]["Type"],
        hyperparameter_ranges=_ranges(config["ParameterRanges"]),
        metric_definitions=definition["AlgorithmSpecification"]["MetricDefinitions"],
        strategy=config["Strategy"],
        max_jobs=limits["MaxNumberOfTrainingJobs"],
        max_parallel_jobs=limits["MaxParallelTrainingJobs"],
        early_stopping_type=config["TrainingJobEarlyStoppingType"],
        tags=request["Tags"],
    )
    return tuner, request["HyperParameterTuningJobName"]
