"""One epoch of training and one evaluation, apart from the job around them.

As torchvision's references/detection split engine.py (train_one_epoch, evaluate) from train.py
(main): `train()` in loop.py builds a `Run` and calls these per epoch; they hold no setup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader

from fairmot.losses import FairMOTLoss
from fairmot.train.checkpoints import TrainingState, save_checkpoint
from fairmot.train.distributed import DistributedContext, ResumableShardSampler
from fairmot.train.hparams import TrainConfig
from fairmot.train.metrics import format_metrics

LOSS_NAMES = ("loss", "hm_loss", "wh_loss", "off_loss", "id_loss")

Log = Callable[[str], Any]


class TrainingError(RuntimeError):
    """Training cannot start or go on; the message is one line for the user or failure file."""


class TrainingInterrupted(RuntimeError):
    """A stop was requested mid-training; a checkpoint was written first (its path in .checkpoint)."""

    def __init__(self, checkpoint: Path | None, epoch: int, step: int) -> None:
        where = f" at {checkpoint}" if checkpoint else " (no checkpoint dir given)"
        super().__init__(f"training stopped in epoch {epoch} after step {step}; checkpoint{where}")
        self.checkpoint = checkpoint
        self.epoch = epoch
        self.step = step


class ModelWithLoss(nn.Module):
    """Network + loss as one module, so DDP synchronises the ID classifier and s_det/s_id too."""

    def __init__(self, model: nn.Module, criterion: FairMOTLoss) -> None:
        super().__init__()
        self.model = model
        self.criterion = criterion

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        outputs = self.model(batch["input"])
        return self.criterion(outputs, batch)


@dataclass
class Run:
    """Everything one training job steps: built once by train(), passed to each epoch."""

    config: TrainConfig
    dataset: Any  # fairmot.data.TrainingSet
    dataset_dir: Path
    module: ModelWithLoss
    trained: nn.Module  # module, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.MultiStepLR
    scaler: torch.amp.GradScaler
    device: torch.device
    use_amp: bool
    dist: DistributedContext
    state: TrainingState
    checkpoint_dir: Path | None
    started: float  # time.monotonic() of the start, moved back by the time earlier runs took
    steps_per_epoch: int
    drop_last: bool
    say: Log
    stop_event: threading.Event | None = None

    @property
    def stateful(self) -> dict[str, Any]:
        """What a checkpoint holds besides the position."""
        return {
            "model": self.module.model,
            "loss": self.module.criterion,
            "optimizer": self.optimizer,
            "scheduler": self.scheduler,
            "scaler": self.scaler,
        }

    def checkpoint(self, extra: dict[str, Any]) -> Path | None:
        """Write a checkpoint on rank 0 (all ranks wait for it)."""
        self.state.elapsed_s = time.monotonic() - self.started
        path = None
        if self.checkpoint_dir is not None and self.dist.is_main:
            path = save_checkpoint(Path(self.checkpoint_dir), self.state, self.stateful, extra)
        self.dist.barrier()
        return path


@dataclass(frozen=True)
class EpochResult:
    """Mean losses over the steps done (averaged over ranks), how many, and whether the job's
    time ran out before the epoch's last step."""

    means: dict[str, float]
    steps: int
    out_of_time: bool


def _batches(loader: DataLoader, dataset_dir: Path) -> Iterator[dict[str, Any]]:
    """The loader's batches; a bad image is one TrainingError line, also from a worker process
    (the DataLoader re-raises a worker's error with its whole traceback as the message)."""
    from fairmot.data.errors import DatasetError

    try:
        yield from loader
    except DatasetError as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        own = lines[-1].split(f"{DatasetError.__name__}: ", 1)[-1]
        raise TrainingError(f"dataset {dataset_dir}: {own}") from None


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in batch.items()
    }


def _loader(run: Run, epoch: int) -> DataLoader:
    """This rank's batches of `epoch`, from the step the state is at (resume mid-epoch)."""
    config = run.config
    sampler = ResumableShardSampler(
        len(run.dataset),
        seed=config.seed,
        epoch=epoch,
        rank=run.dist.rank,
        world_size=run.dist.world_size,
        start=run.state.step_in_epoch * config.batch_size,
    )
    run.dataset.set_epoch(epoch)
    return DataLoader(
        run.dataset,
        batch_sampler=BatchSampler(sampler, config.batch_size, drop_last=run.drop_last),
        num_workers=config.num_workers,
        pin_memory=run.device.type == "cuda",
        # Fresh workers each epoch copy the dataset with the epoch set_epoch gave it.
        persistent_workers=False,
    )


def train_one_epoch(run: Run, epoch: int, extra: dict[str, Any]) -> EpochResult:
    """Optimise over `epoch` (or its rest, resumed) and return its mean losses.

    When the stop event is set on any rank, a checkpoint (with `extra`) is written and
    TrainingInterrupted raised; when max_minutes runs out, the epoch ends early.
    """
    config, state, dist = run.config, run.state, run.dist
    # A job resumed mid-epoch carries on the sums of the steps it had done.
    sums = {n: state.epoch_sums.get(n, 0.0) for n in LOSS_NAMES}
    count = state.step_in_epoch if state.epoch_sums else 0
    out_of_time = False
    run.trained.train()
    progress = _progress(run.steps_per_epoch, state.step_in_epoch, epoch, dist.is_main)
    for batch in _batches(_loader(run, epoch), run.dataset_dir):
        if state.step_in_epoch >= run.steps_per_epoch:
            break
        stats = _step(run, _to_device(batch, run.device))
        state.step_in_epoch += 1
        state.global_step += 1
        for name in LOSS_NAMES:
            sums[name] += stats[name]
        state.steps.append({"step": state.global_step, **{n: stats[n] for n in LOSS_NAMES}})
        count += 1
        progress.update(1)
        progress.set_postfix(loss=f"{stats['loss']:.3f}")
        if config.print_iter and state.global_step % config.print_iter == 0:
            run.say(format_metrics(epoch=epoch, step=state.global_step, **stats))
        stop = run.stop_event is not None and run.stop_event.is_set()
        if dist.any(stop, run.device):
            progress.close()
            state.epoch_sums = dist.mean(sums, run.device)
            raise TrainingInterrupted(run.checkpoint(extra), epoch, state.step_in_epoch)
        late = config.max_minutes > 0 and time.monotonic() - run.started > config.max_minutes * 60
        if dist.any(late, run.device):
            out_of_time = True
            break
    progress.close()
    if out_of_time and state.step_in_epoch < run.steps_per_epoch:
        state.epoch_sums = dist.mean(sums, run.device)
    means = dist.mean({n: sums[n] / max(count, 1) for n in LOSS_NAMES}, run.device)
    return EpochResult(means=means, steps=count, out_of_time=out_of_time)


def _step(run: Run, batch: dict[str, Any]) -> dict[str, float]:
    """One optimiser step (AMP on CUDA when enabled); the loss terms as floats."""
    with torch.autocast(run.device.type, dtype=torch.float16, enabled=run.use_amp):
        loss, stats = run.trained(batch)
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    return stats


class Evaluator:
    """Validation on rank 0: loss on the held-out halves and tracking metrics (val_mota, ...).
    The validation set is read once, on first use."""

    def __init__(self, run: Run, card: Any) -> None:
        self.run = run
        self.card = card
        self._val_set: Any = None

    def evaluate(self, epoch: int) -> dict[str, float]:
        from fairmot.train.val_loss import validation_loss, validation_set
        from fairmot.train.validate import track_validation_halves

        run, config = self.run, self.run.config
        val: dict[str, float] = {}
        if run.dist.is_main:
            if self._val_set is None:
                self._val_set = validation_set(run.dataset_dir, config.input_w, config.input_h)
            val["val_loss"] = validation_loss(
                run.module, self._val_set, batch_size=config.batch_size, device=run.device
            )
            model = run.module.model
            val.update(
                track_validation_halves(
                    model, self.card, run.dataset_dir, config, device=run.device, log=run.say
                )
            )
            run.say(format_metrics(epoch=epoch, **val))
            model.train()
        run.dist.barrier()
        return val


def _progress(total: int, done: int, epoch: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=done,
        desc=f"epoch {epoch}",
        unit="step",
        disable=not enabled,
        leave=False,
        dynamic_ncols=True,
    )
