"""Training checkpoints: everything needed to resume exactly, written atomically.

A checkpoint holds the network, the loss module (ID classifier, s_det, s_id), optimizer,
scheduler and AMP scaler states, the position (completed epochs, steps into the next one,
global step), the metric history and every RNG state. File names sort by position, so the
newest is found without trusting modification times (S3 sync for spot training resets them).
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-e(\d{4})-s(\d{7})\.pt$")
PARTIAL_SUFFIX = ".pt.tmp"  # a checkpoint being written; renamed into place when whole
# Older checkpoints are deleted beyond this many: enough to survive one corrupt write.
KEEP_CHECKPOINTS = 2


@dataclass
class TrainingState:
    """Position of a job: epochs finished, steps done in the current epoch, history so far."""

    epochs_done: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    # Every step's losses ({"step": n, "loss": ...}) for the loss curve; kept across resumes.
    steps: list[dict[str, float]] = field(default_factory=list)
    # Loss sums over the steps done in the unfinished epoch (averaged over ranks).
    epoch_sums: dict[str, float] = field(default_factory=dict)


def checkpoint_name(state: TrainingState) -> str:
    return f"checkpoint-e{state.epochs_done:04d}-s{state.step_in_epoch:07d}.pt"


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    directory: Path,
    state: TrainingState,
    modules: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `checkpoint-eEEEE-sSSSSSSS.pt` (tmp file + rename) and prune old ones.

    modules maps a name ("model", "loss", "optimizer", ...) to anything with state_dict().
    """
    directory.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "state": asdict(state),
        "rng": rng_state(),
        **{name: module.state_dict() for name, module in modules.items()},
        **(extra or {}),
    }
    path = directory / checkpoint_name(state)
    tmp = path.with_suffix(PARTIAL_SUFFIX)
    torch.save(payload, tmp)
    os.replace(tmp, path)
    for old in list_checkpoints(directory)[:-KEEP_CHECKPOINTS]:
        old.unlink(missing_ok=True)
    return path


def remove_partial_checkpoints(directory: Path) -> list[Path]:
    """Delete checkpoint writes cut short by a kill (`*.pt.tmp`): never resumable, and each as
    large as a checkpoint. For a job starting up, before it writes any checkpoint itself."""
    if not directory.is_dir():
        return []
    partial = sorted(directory.glob(f"checkpoint-*{PARTIAL_SUFFIX}"))
    for path in partial:
        path.unlink(missing_ok=True)
    return partial


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoints in directory, oldest first by (epoch, step)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match:
            found.append(((int(match[1]), int(match[2])), path))
    return [path for _, path in sorted(found)]


def load_checkpoint(path: Path, modules: dict[str, Any]) -> tuple[TrainingState, dict[str, Any]]:
    """Restore every module's state and the RNGs; returns the position and the raw payload."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    for name, module in modules.items():
        if name in payload:
            module.load_state_dict(payload[name])
    restore_rng_state(payload["rng"])
    return TrainingState(**payload["state"]), payload
