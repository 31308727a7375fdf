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
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fairmot.losses import FairMOTLoss
from fairmot.train.checkpoints import TrainingState
from fairmot.train.distributed import DistributedContext, shard_length
from fairmot.train.engine import (
    LOSS_NAMES,
    Evaluator,
    Log,
    ModelWithLoss,
    Run,
    TrainingError,
    TrainingInterrupted,
    train_one_epoch,
)
from fairmot.train.hparams import TrainConfig
from fairmot.train.metrics import format_metrics
from fairmot.train.resume import HPARAMS_KEY, LR_DROP, effective_lr, resume

__all__ = ["TrainResult", "TrainingError", "TrainingInterrupted", "train"]


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


def make_card(config: TrainConfig, num_ids: int, class_nID: list[int] | None = None) -> Any:
    """The card of a new model; class_nID: identities per class of a multi-class dataset."""
    from fairmot.model import ModelCard
    from fairmot.tracking import config_to_mapping
    from fairmot.train.validate import validation_tracker

    values: dict[str, Any] = {
        "arch": config.arch,
        "reid_dim": config.reid_dim,
        "input_w": config.input_w,
        "input_h": config.input_h,
        "nID": num_ids,
        "hyperparameters": config.as_strings(),
        # What the job's validation tracks with (fairmot.train.validate.evaluate_model).
        "tracker": config_to_mapping(validation_tracker(config.track_buffer)),
    }
    if config.head_conv >= 0:
        values["head_conv"] = config.head_conv
    if class_nID is not None and len(class_nID) > 1:
        values["num_classes"] = len(class_nID)
        values["class_nID"] = list(class_nID)
    return ModelCard(**values)


def check_pretrained(config: TrainConfig) -> None:
    """dla34 starts from pretrained weights, as the paper's, unless allow_random_init=1."""
    from fairmot.model.registry import PRETRAINED_ARCHS

    if config.arch in PRETRAINED_ARCHS and not config.load_model and not config.allow_random_init:
        raise TrainingError(
            f"arch {config.arch} trains from pretrained weights, as the paper: set load_model to "
            "a checkpoint (`fairmot weights download dla34-imagenet|ctdet_coco_dla_2x|"
            "fairmot_dla34 --out DIR`; on SageMaker the `pretrained` channel) or "
            "allow_random_init=1 to start from random weights"
        )


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
    counter, same data order; a changed schedule is applied, other changes refused). When
    stop_event is set, the current step finishes, a checkpoint is written and
    TrainingInterrupted is raised. With several processes (dist.world_size > 1, process group
    already initialised by the caller) the model is wrapped in DistributedDataParallel and each
    rank reads its own shard of every epoch; `lr` is the rate of the whole batch, as the
    reference's, unless lr_scaling=linear multiplies it by the world size. Only rank 0 logs,
    checkpoints and writes the artifact.
    """
    dist = dist or DistributedContext()
    say: Log = log if dist.is_main else (lambda _msg: None)
    run, card = _setup(config, Path(dataset_dir), checkpoint_dir, say, stop_event, dist)
    state = run.state
    evaluator = Evaluator(run, card)
    extra = {HPARAMS_KEY: config.as_strings()}
    stopped_early = False
    # A job resumed after its last epoch (e.g. restarted while writing the model) has no new
    # epoch to report: its metrics are the last recorded ones.
    last_stats = {k: v for k, v in (state.history[-1:] or [{}])[0].items() if k in LOSS_NAMES}

    while state.epochs_done < config.num_epochs and not stopped_early:
        epoch = state.epochs_done + 1
        result = train_one_epoch(run, epoch, extra)
        stopped_early = result.out_of_time
        lr_now = run.optimizer.param_groups[0]["lr"]
        if result.steps:
            last_stats = result.means
            entry = {"epoch": float(epoch), "lr": lr_now, **result.means}
            if state.history and state.history[-1]["epoch"] == epoch:
                state.history[-1] = entry  # a max_minutes stop had recorded this epoch in part
            else:
                state.history.append(entry)
            say(format_metrics(epoch=epoch, lr=lr_now, **result.means))
        if stopped_early and state.step_in_epoch < run.steps_per_epoch:
            say(f"max_minutes={config.max_minutes:g} reached in epoch {epoch}: finishing")
            run.checkpoint(extra)
            break
        state.epochs_done = epoch
        state.step_in_epoch = 0
        state.epoch_sums = {}
        run.scheduler.step()
        run.checkpoint(extra)
        if (
            config.half_val
            and config.val_every
            and epoch % config.val_every == 0
            and epoch < config.num_epochs
        ):
            evaluator.evaluate(epoch)

    metrics = {k: round(v, 6) for k, v in last_stats.items()}
    if config.half_val:
        metrics.update(evaluator.evaluate(state.epochs_done))
    model = run.module.model
    if dist.is_main:
        model.eval()
        metrics["train_minutes"] = round((time.monotonic() - run.started) / 60, 3)
        write_artifact(model, card, metrics, Path(model_dir), state.steps, say)
    dist.barrier()
    return TrainResult(
        model_dir=Path(model_dir),
        card=card.model_copy(update={"metrics": metrics}),
        metrics=metrics,
        epochs_done=state.epochs_done,
        history=state.history,
        stopped_early=stopped_early,
        parameter_digest=parameter_digest(model),
    )


def _setup(
    config: TrainConfig,
    dataset_dir: Path,
    checkpoint_dir: Path | None,
    say: Log,
    stop_event: threading.Event | None,
    dist: DistributedContext,
) -> tuple[Run, Any]:
    """The dataset, network, loss, optimiser and schedule of a job, resumed where it was."""
    from fairmot.data import build_training_set
    from fairmot.data.errors import DatasetError
    from fairmot.model import build_model
    from fairmot.model.registry import UnknownArchError

    check_pretrained(config)
    device = choose_device(config, dist)
    seed_everything(config.seed)
    try:
        dataset = build_training_set(
            dataset_dir,
            config.input_w,
            config.input_h,
            half_val=bool(config.half_val),
            augment=bool(config.augment),
            augment_config=config.augment_config(),
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
        card = make_card(config, int(dataset.nID), list(dataset.class_nID))
        model = build_model(card)
    except (UnknownArchError, ValueError) as error:
        raise TrainingError(str(error).splitlines()[0]) from None
    if config.load_model:
        load_pretrained(model, config.load_model, say)
    criterion = FairMOTLoss(
        card, wh_weight=config.wh_weight, id_loss=config.id_loss, multi_loss=config.multi_loss
    )
    module = ModelWithLoss(model, criterion).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=effective_lr(config, dist.world_size))
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
    per_rank = shard_length(len(dataset), dist.world_size)
    drop_last = per_rank > config.batch_size
    steps_per_epoch = (
        per_rank // config.batch_size if drop_last else -(-per_rank // config.batch_size)
    )
    if config.num_iters:
        steps_per_epoch = min(steps_per_epoch, config.num_iters)
    run = Run(
        config=config,
        dataset=dataset,
        dataset_dir=dataset_dir,
        module=module,
        trained=trained,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=scaler,
        device=device,
        use_amp=use_amp,
        dist=dist,
        state=TrainingState(),
        checkpoint_dir=checkpoint_dir,
        started=time.monotonic(),
        steps_per_epoch=steps_per_epoch,
        drop_last=drop_last,
        say=say,
        stop_event=stop_event,
    )
    run.state = resume(checkpoint_dir, run.stateful, config, dist.world_size, say)
    run.started = time.monotonic() - run.state.elapsed_s
    per_class = f" ({', '.join(map(str, card.class_nID))} per class)" if card.class_nID else ""
    say(
        f"training {card.arch} {card.input_w}x{card.input_h} on {len(dataset)} images, "
        f"{card.nID} identities{per_class}, device {device}, {dist.world_size} process(es)"
    )
    return run, card


def parameter_digest(model: nn.Module) -> str:
    """sha256 of the parameters. Buffers (batch-norm running statistics) are left out: DDP
    broadcasts them from rank 0 before each forward pass, then every rank updates its own in that
    pass, so they differ by the last step by design; the artifact holds rank 0's."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


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
