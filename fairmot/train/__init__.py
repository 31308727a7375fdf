"""Training: hyperparameters, the loop shared by `fairmot train` and SageMaker, metric lines."""

from typing import Any

from fairmot.train.hparams import HyperparameterError, TrainConfig

__all__ = [
    "DistributedContext",
    "HyperparameterError",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "TrainingInterrupted",
    "train",
]

_LOOP_NAMES = ("TrainResult", "TrainingError", "TrainingInterrupted", "train")


def __getattr__(name: str) -> Any:
    # The loop imports torch; keep `import fairmot.train` light for the Lambdas and the CLI.
    if name in _LOOP_NAMES:
        from fairmot.train import loop

        return getattr(loop, name)
    if name == "DistributedContext":
        from fairmot.train.distributed import DistributedContext

        return DistributedContext
    raise AttributeError(f"module 'fairmot.train' has no attribute {name!r}")
