"""Resuming from the newest checkpoint, with the hyperparameters it was trained with.

A checkpoint records the job's hyperparameters. Rerunning with other values either applies them
or refuses, never silently keeps the old ones while model.json records the new:
- the learning-rate schedule (lr, lr_step, lr_scaling) is applied: the rate of the coming epoch is
  derived again from the new values;
- run-time settings (epochs, workers, logging, time limit, validation) just take effect;
- anything else (the network, the data, the loss, the batch, the seed) changes what the finished
  epochs meant: refused with one line.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fairmot.train.checkpoints import TrainingState, list_checkpoints, load_checkpoint
from fairmot.train.engine import TrainingError
from fairmot.train.hparams import TrainConfig

# Learning-rate drop at each lr_step epoch, the reference's (x0.1).
LR_DROP = 0.1
HPARAMS_KEY = "hyperparameters"  # where a checkpoint keeps TrainConfig.as_strings()
SCHEDULE_KEYS = frozenset({"lr", "lr_step", "lr_scaling"})
RUNTIME_KEYS = frozenset(
    {
        "num_epochs",
        "num_iters",
        "num_workers",
        "print_iter",
        "max_minutes",
        "val_every",
        "device",
        "amp",
        "conf_thres",
        "track_buffer",
        "load_model",
        "allow_random_init",
    }
)

Log = Callable[[str], Any]


def effective_lr(config: TrainConfig, world_size: int) -> float:
    """The optimiser's base rate: `lr` as given (the reference's 1e-4 is for its total batch of
    12), or times the process count with lr_scaling=linear (Goyal et al.'s linear scaling rule)."""
    return config.lr * (world_size if config.lr_scaling == "linear" else 1)


def scheduled_lr(config: TrainConfig, world_size: int, epochs_done: int) -> float:
    """The rate of epoch epochs_done + 1: the base rate dropped once per lr_step passed."""
    drops = sum(1 for step in config.lr_step if step <= epochs_done)
    return effective_lr(config, world_size) * LR_DROP**drops


def resume(
    checkpoint_dir: Path | None,
    stateful: dict[str, Any],
    config: TrainConfig,
    world_size: int,
    log: Log,
) -> TrainingState:
    """Restore the newest readable checkpoint (an unreadable one, e.g. cut short by a spot
    interruption, falls back to the one before); a fresh TrainingState when there is none."""
    if checkpoint_dir is None:
        return TrainingState()
    for path in reversed(list_checkpoints(Path(checkpoint_dir))):
        try:
            state, payload = load_checkpoint(path, stateful)
        except (RuntimeError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            if "size mismatch" in str(error) or "Missing key" in str(error):
                raise TrainingError(
                    f"checkpoint {path} belongs to another model or dataset ({first[:120]}); "
                    "use an empty checkpoint directory"
                ) from None
            log(f"skipping unreadable checkpoint {path.name}: {first[:160]}")
            continue
        log(f"resuming from {path.name}: epoch {state.epochs_done + 1}, step {state.step_in_epoch}")
        saved = payload.get(HPARAMS_KEY)
        if isinstance(saved, dict):
            reconcile(path, saved, config, stateful, world_size, state.epochs_done, log)
        return state
    return TrainingState()


def reconcile(
    path: Path,
    saved: dict[str, str],
    config: TrainConfig,
    stateful: dict[str, Any],
    world_size: int,
    epochs_done: int,
    log: Log,
) -> None:
    """Apply a changed schedule to the restored optimizer and scheduler; refuse other changes."""
    now = config.as_strings()
    # Keys the checkpoint predates take their default, as the run that wrote it did.
    defaults = TrainConfig.model_validate({}).as_strings()
    changed = {k for k in now if saved.get(k, defaults[k]) != now[k]}
    fixed = sorted(changed - SCHEDULE_KEYS - RUNTIME_KEYS)
    if fixed:
        diffs = ", ".join(f"{k}={saved.get(k, defaults[k])} (now {now[k]})" for k in fixed)
        raise TrainingError(
            f"checkpoint {path} was trained with {diffs}; these cannot change when resuming: "
            "rerun with the checkpoint's values or use an empty checkpoint directory"
        )
    if changed & SCHEDULE_KEYS:
        lr = scheduled_lr(config, world_size, epochs_done)
        base = effective_lr(config, world_size)
        optimizer, scheduler = stateful["optimizer"], stateful["scheduler"]
        for group in optimizer.param_groups:
            group["lr"], group["initial_lr"] = lr, base
        scheduler.base_lrs = [base] * len(optimizer.param_groups)
        scheduler.milestones = Counter(config.lr_step)
        scheduler._last_lr = [lr] * len(optimizer.param_groups)
        diffs = ", ".join(
            f"{k} {saved.get(k, defaults[k])} -> {now[k]}" for k in sorted(changed & SCHEDULE_KEYS)
        )
        log(f"resuming with a new schedule ({diffs}): lr {lr:g} from epoch {epochs_done + 1}")
