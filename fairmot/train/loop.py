"""The training loop shared by `fairmot train` and the SageMaker `train` entry point.

One call, `train(config, dataset_dir, model_dir, checkpoint_dir)`: build the training set and
the network from the hyperparameters, optimise the FairMOT loss with Adam and a step schedule,
print `name=value` metric lines, checkpoint every epoch (and when stopped), resume from the
newest checkpoint, and finally write the model artifact (model.pt + model.json) and a loss curve.
With half_val=1 the job ends by tracking the validation halves and reports val_mota / val_idf1.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader

from fairmot.losses import FairMOTLoss
from fairmot.train.checkpoints import (
    TrainingState,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from fairmot.train.distributed import DistributedContext, ResumableShardSampler, shard_length
from fairmot.train.hparams import TrainConfig
from fairmot.train.metrics import format_metrics

# Learning-rate drop at each lr_step epoch, the reference's (x0.1).
LR_DROP = 0.1
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


@dataclass
class TrainResult:
    """What a finished job produced: the artifact directory, its card and the final metrics."""

    model_dir: Path
    card: Any  # fairmot.model.ModelCard
    metrics: dict[str, float]
    epochs_done: int
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    # sha256 of this rank's final parameters: equal on every rank of a correct distributed run.
    parameter_digest: str = ""


class ModelWithLoss(nn.Module):
    """Network + loss as one module, so DDP synchronises the ID classifier and s_det/s_id too."""

    def __init__(self, model: nn.Module, criterion: FairMOTLoss) -> None:
        super().__init__()
        self.model = model
        self.criterion = criterion

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        outputs = self.model(batch["input"])
        return self.criterion(outputs, batch)


def choose_device(config: TrainConfig, dist: DistributedContext) -> torch.device:
    if config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise TrainingError("device=cuda requested but no CUDA device is available")
    torch.cuda.set_device(dist.local_rank)
    return torch.device("cuda", dist.local_rank)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_card(config: TrainConfig, num_ids: int) -> Any:
    from fairmot.model import ModelCard

    values: dict[str, Any] = {
        "arch": config.arch,
        "reid_dim": config.reid_dim,
        "input_w": config.input_w,
        "input_h": config.input_h,
        "nID": num_ids,
        "hyperparameters": config.as_strings(),
    }
    if config.head_conv >= 0:
        values["head_conv"] = config.head_conv
    return ModelCard(**values)


def load_pretrained(model: nn.Module, path_text: str, log: Log) -> None:
    """Initialise from a reference checkpoint (.pth), or one of our artifacts (its directory,
    model.tar.gz or model.pt). Tensors whose shape differs (another reid_dim) start fresh."""
    from fairmot.model import CheckpointError, load_reference_checkpoint

    path = Path(path_text)
    if not path.exists():
        raise TrainingError(f"load_model: {path} does not exist")
    try:
        report = load_reference_checkpoint(model, path)
    except CheckpointError as error:
        raise TrainingError(f"load_model: {str(error).splitlines()[0]}") from None
    log(
        f"loaded {report.loaded} tensors from {path.name}: {len(report.missing)} missing, "
        f"{len(report.mismatched)} of another shape, {len(report.unexpected)} unexpected"
    )


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


def train(
    config: TrainConfig,
    dataset_dir: Path,
    model_dir: Path,
    checkpoint_dir: Path | None = None,
    *,
    log: Log = print,
    stop_event: threading.Event | None = None,
    dist: DistributedContext | None = None,
) -> TrainResult:
    """Train FairMOT on a dataset directory and write the model artifact to model_dir.

    Resumes from the newest checkpoint in checkpoint_dir when there is one (same epoch
    counter, same data order). When stop_event is set, the current step finishes, a
    checkpoint is written and TrainingInterrupted is raised. With several processes
    (dist.world_size > 1, process group already initialised by the caller) the model is
    wrapped in DistributedDataParallel, each rank reads its own shard of every epoch, and the
    learning rate is scaled linearly with the world size (lr * world_size: the effective
    batch is batch_size * world_size, Goyal et al.'s linear scaling rule); only rank 0 logs,
    checkpoints and writes the artifact.
    """
    from fairmot.data import build_training_set
    from fairmot.data.errors import DatasetError
    from fairmot.model import build_model
    from fairmot.model.registry import UnknownArchError

    dist = dist or DistributedContext()
    say: Log = log if dist.is_main else (lambda _msg: None)
    device = choose_device(config, dist)
    seed_everything(config.seed)
    dataset_dir, model_dir = Path(dataset_dir), Path(model_dir)

    try:
        dataset = build_training_set(
            dataset_dir,
            config.input_w,
            config.input_h,
            half_val=bool(config.half_val),
            augment=bool(config.augment),
            seed=config.seed,
        )
    except DatasetError as error:
        raise TrainingError(f"dataset {dataset_dir}: {error}") from None
    if dataset.nID < 1:
        raise TrainingError(
            f"dataset {dataset_dir}: no identities in the training frames (gt/gt.txt rows with "
            "mark != 0 and class 1); the re-ID head needs tracked people to learn from"
        )
    try:
        card = make_card(config, int(dataset.nID))
        model = build_model(card)
    except (UnknownArchError, ValueError) as error:
        raise TrainingError(str(error).splitlines()[0]) from None
    if config.load_model:
        load_pretrained(model, config.load_model, say)
    criterion = FairMOTLoss(
        card, wh_weight=config.wh_weight, id_loss=config.id_loss, multi_loss=config.multi_loss
    )
    module = ModelWithLoss(model, criterion).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=config.lr * dist.world_size)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=config.lr_step, gamma=LR_DROP
    )
    use_amp = bool(config.amp) and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    trained: nn.Module = module
    if dist.enabled:
        trained = nn.parallel.DistributedDataParallel(
            module, device_ids=[device.index] if device.type == "cuda" else None
        )

    stateful = {
        "model": model,
        "loss": criterion,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "scaler": scaler,
    }
    state = resume(checkpoint_dir, stateful, say)
    say(
        f"training {card.arch} {card.input_w}x{card.input_h} on {len(dataset)} images, "
        f"{card.nID} identities, device {device}, {dist.world_size} process(es)"
    )

    per_rank = shard_length(len(dataset), dist.world_size)
    drop_last = per_rank > config.batch_size
    steps_per_epoch = (
        per_rank // config.batch_size if drop_last else -(-per_rank // config.batch_size)
    )
    if config.num_iters:
        steps_per_epoch = min(steps_per_epoch, config.num_iters)

    started = time.monotonic() - state.elapsed_s
    stopped_early = False
    # A job resumed after its last epoch (e.g. restarted while writing the model) has no new
    # epoch to report: its metrics are the last recorded ones.
    last_stats = {k: v for k, v in (state.history[-1:] or [{}])[0].items() if k in LOSS_NAMES}

    def checkpoint_now() -> Path | None:
        state.elapsed_s = time.monotonic() - started
        if checkpoint_dir is None or not dist.is_main:
            dist.barrier()
            return None
        path = save_checkpoint(Path(checkpoint_dir), state, stateful)
        dist.barrier()
        return path

    cached_val_set: list[Any] = []

    def val_set() -> Any:
        from fairmot.train.val_loss import validation_set

        if not cached_val_set:
            cached_val_set.append(validation_set(dataset_dir, config.input_w, config.input_h))
        return cached_val_set[0]

    def validate_now(epoch: int) -> dict[str, float]:
        from fairmot.train.val_loss import validation_loss
        from fairmot.train.validate import track_validation_halves

        val: dict[str, float] = {}
        if dist.is_main:
            val["val_loss"] = validation_loss(
                module, val_set(), batch_size=config.batch_size, device=device
            )
            val.update(
                track_validation_halves(model, card, dataset_dir, config, device=device, log=say)
            )
            say(format_metrics(epoch=epoch, **val))
            model.train()
        dist.barrier()
        return val

    while state.epochs_done < config.num_epochs and not stopped_early:
        epoch = state.epochs_done + 1
        sampler = ResumableShardSampler(
            len(dataset),
            seed=config.seed,
            epoch=epoch,
            rank=dist.rank,
            world_size=dist.world_size,
            start=state.step_in_epoch * config.batch_size,
        )
        dataset.set_epoch(epoch)
        loader = DataLoader(
            dataset,
            batch_sampler=BatchSampler(sampler, config.batch_size, drop_last=drop_last),
            num_workers=config.num_workers,
            pin_memory=device.type == "cuda",
            # Fresh workers each epoch copy the dataset with the epoch set_epoch gave it.
            persistent_workers=False,
        )
        # A job resumed mid-epoch carries on the sums of the steps it had done.
        sums = {n: state.epoch_sums.get(n, 0.0) for n in LOSS_NAMES}
        count = state.step_in_epoch if state.epoch_sums else 0
        trained.train()
        progress = _progress(steps_per_epoch, state.step_in_epoch, epoch, dist.is_main)
        for batch in _batches(loader, dataset_dir):
            if state.step_in_epoch >= steps_per_epoch:
                break
            batch = _to_device(batch, device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                loss, stats = trained(batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            state.step_in_epoch += 1
            state.global_step += 1
            for name in LOSS_NAMES:
                sums[name] += stats[name]
            state.steps.append({"step": state.global_step, **{n: stats[n] for n in LOSS_NAMES}})
            count += 1
            progress.update(1)
            progress.set_postfix(loss=f"{stats['loss']:.3f}")
            if config.print_iter and state.global_step % config.print_iter == 0:
                say(format_metrics(epoch=epoch, step=state.global_step, **stats))
            stop = stop_event is not None and stop_event.is_set()
            if dist.any(stop, device):
                progress.close()
                state.epoch_sums = dist.mean(sums, device)
                path = checkpoint_now()
                raise TrainingInterrupted(path, epoch, state.step_in_epoch)
            out_of_time = (
                config.max_minutes > 0 and time.monotonic() - started > config.max_minutes * 60
            )
            if dist.any(out_of_time, device):
                stopped_early = True
                break
        progress.close()
        means = {n: sums[n] / max(count, 1) for n in LOSS_NAMES}
        means = dist.mean(means, device)
        lr_now = optimizer.param_groups[0]["lr"]
        if count:
            last_stats = means
            entry = {"epoch": float(epoch), "lr": lr_now, **means}
            if state.history and state.history[-1]["epoch"] == epoch:
                state.history[-1] = entry  # a max_minutes stop had recorded this epoch in part
            else:
                state.history.append(entry)
            say(format_metrics(epoch=epoch, lr=lr_now, **means))
        if stopped_early and state.step_in_epoch < steps_per_epoch:
            say(f"max_minutes={config.max_minutes:g} reached in epoch {epoch}: finishing")
            state.epoch_sums = dist.mean(sums, device)
            checkpoint_now()
            break
        state.epochs_done = epoch
        state.step_in_epoch = 0
        state.epoch_sums = {}
        scheduler.step()
        checkpoint_now()
        if (
            config.half_val
            and config.val_every
            and epoch % config.val_every == 0
            and epoch < config.num_epochs
        ):
            validate_now(epoch)

    metrics = {k: round(v, 6) for k, v in last_stats.items()}
    if config.half_val:
        metrics.update(validate_now(state.epochs_done))
    if dist.is_main:
        model.eval()
        metrics["train_minutes"] = round((time.monotonic() - started) / 60, 3)
        write_artifact(model, card, metrics, model_dir, state.steps, say)
    dist.barrier()
    return TrainResult(
        model_dir=model_dir,
        card=card.model_copy(update={"metrics": metrics}),
        metrics=metrics,
        epochs_done=state.epochs_done,
        history=state.history,
        stopped_early=stopped_early,
        parameter_digest=parameter_digest(model),
    )


def parameter_digest(model: nn.Module) -> str:
    """sha256 of the parameters. Buffers (batch-norm running statistics) are left out: DDP
    broadcasts them from rank 0 before each forward pass, then every rank updates its own in that
    pass, so they differ by the last step by design; the artifact holds rank 0's."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def resume(checkpoint_dir: Path | None, stateful: dict[str, Any], log: Log) -> TrainingState:
    """Restore the newest readable checkpoint (an unreadable one, e.g. cut short by a spot
    interruption, falls back to the one before); a fresh TrainingState when there is none."""
    if checkpoint_dir is None:
        return TrainingState()
    for path in reversed(list_checkpoints(Path(checkpoint_dir))):
        try:
            state, _ = load_checkpoint(path, stateful)
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
        return state
    return TrainingState()


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


def write_artifact(
    model: nn.Module,
    card: Any,
    metrics: dict[str, float],
    model_dir: Path,
    steps: list[dict[str, float]],
    log: Log,
) -> None:
    """model.pt + model.json (card with hyperparameters, nID, final metrics) + loss curve PNG."""
    from fairmot.model import save_artifact
    from fairmot.train.plot import plot_loss_curves

    final = card.model_copy(update={"metrics": metrics})
    model_dir.mkdir(parents=True, exist_ok=True)
    save_artifact(model.cpu() if hasattr(model, "cpu") else model, final, model_dir)
    if steps:
        with contextlib.suppress(ImportError):
            plot_loss_curves(steps, model_dir / "loss_curve.png")
    log(f"model written to {model_dir}")
