"""Training step: the best completed training job of a finished tuning job.

SageMaker ranks the jobs of a tuning job by its objective (val_idf1, maximised, unless the
manifest says otherwise) and reports the winner as BestTrainingJob.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from errors import NoCompletedTrainingJobError
from payloads import SelectBestPayload
from step import logger, pipeline_step


def clean_hyperparameters(tuned: dict[str, str]) -> dict[str, str]:
    """Tuned values as plain strings (categorical values may come JSON-quoted)."""
    return {k: str(v).strip('"') for k, v in tuned.items()}


def pick_best(description: Mapping[str, Any]) -> dict[str, Any]:
    """{tuningJobName, trainingJobName, hyperparameters, objective} from DescribeHPOJob."""
    name = description["HyperParameterTuningJobName"]
    completed = description.get("TrainingJobStatusCounters", {}).get("Completed", 0)
    best = description.get("BestTrainingJob")
    if not completed or not best or best.get("TrainingJobStatus", "Completed") != "Completed":
        raise NoCompletedTrainingJobError(
            f"tuning job {name} finished without a completed training job "
            f"(status counters {description.get('TrainingJobStatusCounters')}); "
            "check the training jobs' failure reasons and the tuning ranges"
        )
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    return {
        "tuningJobName": name,
        "trainingJobName": best["TrainingJobName"],
        "hyperparameters": clean_hyperparameters(best.get("TunedHyperParameters", {})),
        "objective": {
            "name": str(objective.get("MetricName", "")),
            "type": str(objective.get("Type", "")),
            "value": float(objective.get("Value", 0.0)),
        },
    }


@pipeline_step(payload=SelectBestPayload)
def handler(event: SelectBestPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {best}."""
    sagemaker = client("sagemaker")
    description = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=event.tuningJobName
    )
    best = pick_best(description)
    logger.info("best training job", extra={"best": best})
    return {"best": best}
