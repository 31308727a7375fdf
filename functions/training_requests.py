"""CreateTrainingJob / CreateHyperParameterTuningJob requests, built from typed inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from errors import DatasetInvalidError
from instances import device_environment
from models import Dataset, Meta
from settings import env, env_bool, env_int, env_json_strings
from tags import pipeline_tags

from fairmot_contracts.manifest import TuningSpec
from fairmot_contracts.metrics import METRIC_DEFINITIONS, METRIC_NAMES

# The SageMaker training contract: channel `train` holds the dataset directory.
TRAIN_CHANNEL = "train"
# Optional: weights to start from (the train entry point reads /opt/ml/input/data/pretrained).
PRETRAINED_CHANNEL = "pretrained"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
# Room for the dataset, the pretrained weights and checkpoints.
VOLUME_SIZE_GB = 100
# Spot jobs may wait for capacity this long on top of their run time.
SPOT_WAIT_FACTOR = 2
SCALING_TYPES = {"Auto", "Linear", "Logarithmic", "ReverseLogarithmic"}
INTEGER_SCALING_TYPES = {"Auto", "Linear", "Logarithmic"}
# SageMaker's limits (CreateTrainingJob): hyperparameters per job and characters per value.
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_VALUE = 2500
# StoppingCondition.MaxRuntimeInSeconds may not exceed 28 days.
MAX_RUNTIME_SECONDS = 28 * 24 * 3600


def check_hyperparameters(hps: dict[str, str]) -> dict[str, str]:
    """`hps` when SageMaker takes them; DatasetInvalidError naming the limit otherwise."""
    if len(hps) > MAX_HYPERPARAMETERS:
        raise DatasetInvalidError(
            f"{len(hps)} hyperparameters: SageMaker takes at most {MAX_HYPERPARAMETERS} a job "
            "(stack defaults, manifest and request together)"
        )
    for name, value in hps.items():
        if len(value) > MAX_HYPERPARAMETER_VALUE:
            raise DatasetInvalidError(
                f"hyperparameter {name!r} is {len(value)} characters: SageMaker takes at most "
                f"{MAX_HYPERPARAMETER_VALUE} a value"
            )
    return hps


@dataclass(frozen=True)
class TrainingSettings:
    """The stack's training configuration (template parameters via environment)."""

    role_arn: str
    image_uri: str
    instance_type: str
    instance_count: int
    tuning_instance_type: str
    tuning_max_jobs: int
    tuning_max_parallel_jobs: int
    default_hyperparameters: dict[str, str]
    spot: bool
    max_seconds: int

    @classmethod
    def from_env(cls) -> TrainingSettings:
        return cls(
            role_arn=env("SAGEMAKER_ROLE_ARN"),
            image_uri=env("TRAIN_IMAGE_URI"),
            instance_type=env("TRAINING_INSTANCE_TYPE", "ml.g5.2xlarge"),
            instance_count=env_int("TRAINING_INSTANCE_COUNT", 1),
            tuning_instance_type=env("TUNING_INSTANCE_TYPE", "ml.g5.xlarge"),
            tuning_max_jobs=env_int("TUNING_MAX_JOBS", 6),
            tuning_max_parallel_jobs=env_int("TUNING_MAX_PARALLEL_JOBS", 2),
            default_hyperparameters=env_json_strings("DEFAULT_HYPERPARAMETERS"),
            spot=env_bool("USE_SPOT_TRAINING"),
            max_seconds=env_int("MAX_TRAINING_SECONDS", 86400),
        )


def _bucket(dataset: Dataset) -> str:
    return dataset.manifest.bucket


def _stopping(settings: TrainingSettings) -> dict[str, int]:
    if not 0 < settings.max_seconds <= MAX_RUNTIME_SECONDS:
        raise DatasetInvalidError(
            f"MaxTrainingSeconds is {settings.max_seconds}: SageMaker allows 1 to "
            f"{MAX_RUNTIME_SECONDS} (28 days)"
        )
    stopping = {"MaxRuntimeInSeconds": settings.max_seconds}
    if settings.spot:
        stopping["MaxWaitTimeInSeconds"] = settings.max_seconds * SPOT_WAIT_FACTOR
    return stopping


def _channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": "File",
    }


def _inputs(dataset: Dataset) -> list[dict[str, Any]]:
    channels = [_channel(TRAIN_CHANNEL, dataset.uri)]
    if dataset.pretrained:
        channels.append(_channel(PRETRAINED_CHANNEL, dataset.pretrained))
    return channels


def _algorithm(settings: TrainingSettings) -> dict[str, Any]:
    return {
        "TrainingImage": settings.image_uri,
        "TrainingInputMode": "File",
        "MetricDefinitions": METRIC_DEFINITIONS,
    }


def hyperparameters(
    settings: TrainingSettings, dataset: Dataset, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """Stack defaults < manifest (and request) < overrides (e.g. tuned values)."""
    return {**settings.default_hyperparameters, **dataset.hyperparameters, **(overrides or {})}


def training_job_request(
    name: str, settings: TrainingSettings, dataset: Dataset, hps: dict[str, str], meta: Meta
) -> dict[str, Any]:
    """Every CreateTrainingJob field the state machine's Train state passes on."""
    bucket = _bucket(dataset)
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": _algorithm(settings),
        "RoleArn": settings.role_arn,
        "HyperParameters": check_hyperparameters(hps),
        "Environment": device_environment(settings.instance_type),
        "InputDataConfig": _inputs(dataset),
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/training-output/"},
        "ResourceConfig": {
            "InstanceType": settings.instance_type,
            "InstanceCount": settings.instance_count,
            "VolumeSizeInGB": VOLUME_SIZE_GB,
        },
        "StoppingCondition": _stopping(settings),
        "EnableManagedSpotTraining": settings.spot,
        # Spot interruptions and retries resume from the newest checkpoint.
        "CheckpointConfig": {
            "S3Uri": f"s3://{bucket}/checkpoints/{name}/",
            "LocalPath": CHECKPOINT_LOCAL_PATH,
        },
        "Tags": pipeline_tags(meta, dataset=dataset.uri),
    }


def _range(name: str, spec: dict[str, str | list[str]]) -> tuple[str, dict[str, Any]]:
    """One manifest range -> (SageMaker range list name, range)."""
    kind = spec.get("type")
    values = spec.get("values")
    if kind == "Categorical" or (kind is None and values is not None):
        if not isinstance(values, list) or not values:
            raise DatasetInvalidError(f"tuning range {name!r}: categorical needs a 'values' list")
        return "CategoricalParameterRanges", {"Name": name, "Values": [str(v) for v in values]}
    low, high = spec.get("min"), spec.get("max")
    if not isinstance(low, str) or not isinstance(high, str):
        raise DatasetInvalidError(f"tuning range {name!r} needs 'min' and 'max' (or 'values')")
    scaling = str(spec.get("scaling", "Auto"))
    if scaling not in SCALING_TYPES:
        raise DatasetInvalidError(f"tuning range {name!r}: scaling must be one of {SCALING_TYPES}")
    if kind is None:
        kind = (
            "Integer" if low.lstrip("-").isdigit() and high.lstrip("-").isdigit() else "Continuous"
        )
    if kind not in ("Integer", "Continuous"):
        raise DatasetInvalidError(f"tuning range {name!r}: unknown type {kind!r}")
    check_scaling(name, kind, scaling, low, high)
    body = {"Name": name, "MinValue": low, "MaxValue": high, "ScalingType": scaling}
    return f"{kind}ParameterRanges", body


def check_scaling(name: str, kind: str, scaling: str, low: str, high: str) -> None:
    """The range as SageMaker accepts it (HyperParameterTuningJobConfig ScalingType rules)."""
    try:
        lo, hi = (int(low), int(high)) if kind == "Integer" else (float(low), float(high))
    except ValueError as error:
        raise DatasetInvalidError(f"tuning range {name!r}: min/max must be numbers") from error
    if lo > hi:
        raise DatasetInvalidError(f"tuning range {name!r}: min {low} is above max {high}")
    if kind == "Integer" and scaling not in INTEGER_SCALING_TYPES:
        raise DatasetInvalidError(
            f"tuning range {name!r}: integer ranges take {sorted(INTEGER_SCALING_TYPES)} scaling"
        )
    if scaling == "Logarithmic" and lo <= 0:
        raise DatasetInvalidError(
            f"tuning range {name!r}: Logarithmic scaling needs a range above 0, got {low}..{high}"
        )
    if scaling == "ReverseLogarithmic" and not (lo >= 0 and hi < 1):
        raise DatasetInvalidError(
            f"tuning range {name!r}: ReverseLogarithmic scaling needs a range within [0, 1), "
            f"got {low}..{high}"
        )


def parameter_ranges(tuning: TuningSpec) -> dict[str, list[dict[str, Any]]]:
    ranges: dict[str, list[dict[str, Any]]] = {
        "ContinuousParameterRanges": [],
        "IntegerParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, spec in sorted(tuning.ranges.items()):
        kind, body = _range(name, spec)
        ranges[kind].append(body)
    if not tuning.ranges:
        raise DatasetInvalidError("the manifest asks for tuning but gives no ranges")
    return ranges


def tuning_job_request(
    name: str, settings: TrainingSettings, dataset: Dataset, meta: Meta
) -> dict[str, Any]:
    """Every CreateHyperParameterTuningJob field the state machine's Tune state passes on."""
    tuning = dataset.tuning
    assert tuning is not None, "tuning_job_request needs a manifest with a tuning block"
    if tuning.objective not in METRIC_NAMES:
        raise DatasetInvalidError(
            f"tuning objective {tuning.objective!r} is not a metric the job prints; "
            f"choose one of {', '.join(METRIC_NAMES)}"
        )
    # The objective is measured on the validation halves, so tuning jobs always split.
    static = hyperparameters(settings, dataset, {"half_val": "1"})
    for tuned in tuning.ranges:
        static.pop(tuned, None)
    bucket = _bucket(dataset)
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": tuning.objective_type,
                "MetricName": tuning.objective,
            },
            # The stack's limits cap what a manifest may ask for (cost guard).
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": min(tuning.max_jobs, settings.tuning_max_jobs),
                "MaxParallelTrainingJobs": min(
                    tuning.max_parallel_jobs, settings.tuning_max_parallel_jobs
                ),
            },
            "ParameterRanges": parameter_ranges(tuning),
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": check_hyperparameters(static),
            "Environment": device_environment(settings.tuning_instance_type),
            "AlgorithmSpecification": _algorithm(settings),
            "RoleArn": settings.role_arn,
            "InputDataConfig": _inputs(dataset),
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/training-output/{name}/"},
            "ResourceConfig": {
                "InstanceType": settings.tuning_instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": VOLUME_SIZE_GB,
            },
            "StoppingCondition": _stopping(settings),
            "EnableManagedSpotTraining": settings.spot,
        },
        "Tags": pipeline_tags(meta, dataset=dataset.uri),
    }
