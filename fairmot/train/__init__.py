"""Training: hyperparameters, the loop shared by `fairmot train` and SageMaker, metric lines."""

from fairmot.train.hparams import HyperparameterError, TrainConfig

__all__ = ["HyperparameterError", "TrainConfig", "TrainResult", "TrainingInterrupted", "train"]


def __getattr__(name: str) -> object:
    # The loop imports torch; keep `import fairmot.train` light for the Lambdas and the CLI.
    if name in ("TrainResult", "TrainingInterrupted", "train"):
        from fairmot.train import loop

        return getattr(loop, name)
    raise AttributeError(name)
