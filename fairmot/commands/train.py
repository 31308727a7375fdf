"""`fairmot train DATASET --out DIR [--key value ...]`: train FairMOT on a dataset directory."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from fairmot.train.hparams import (
    HyperparameterError,
    TrainConfig,
    add_hyperparameter_flags,
    flag_values,
)
from fairmot.train.recipes import RECIPES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on a dataset directory (fairmot synth / fairmot prepare output)",
        description=(
            "Train FairMOT on DATASET (MOT Challenge sequences + manifest.json) and write "
            "model.pt, model.json and loss_curve.png (every step, smoothed) to --out. "
            "Hyperparameters come from, in increasing priority: the paper's defaults, --recipe, "
            "the manifest's 'hyperparameters', and --key-name value flags (--key_name works "
            "too). Prints name=value metric lines."
        ),
    )
    parser.add_argument("dataset", type=Path, help="dataset directory with manifest.json")
    parser.add_argument("--out", type=Path, required=True, help="model output directory")
    parser.add_argument(
        "--checkpoints",
        type=Path,
        default=None,
        help="checkpoint directory; a rerun resumes from its newest checkpoint "
        "(default: OUT/checkpoints)",
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="paper",
        help="starting hyperparameters: paper (DLA-34 1088x608, GPU), lite (CPU, ~10 min), "
        "quick (CPU, ~2 min demo)",
    )
    add_hyperparameter_flags(parser)
    parser.set_defaults(func=run)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM finishes the current step and checkpoints, so a rerun resumes.
    The previous handlers come back afterwards."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        print(f"\nsignal {signum}: finishing the step, then checkpointing", file=sys.stderr)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(args: argparse.Namespace) -> int:
    from fairmot.data.errors import DatasetError
    from fairmot.data.manifest import read_manifest
    from fairmot.train.loop import TrainingError, TrainingInterrupted, train
    from fairmot.train.recipes import recipe

    try:
        manifest = read_manifest(args.dataset)
        values = {**recipe(args.recipe), **manifest.hyperparameters, **flag_values(args)}
        config = TrainConfig.from_strings(values)
        with stop_on_signals() as stop_event:
            result = train(
                config,
                args.dataset,
                args.out,
                args.checkpoints or args.out / "checkpoints",
                stop_event=stop_event,
            )
    except (HyperparameterError, DatasetError, TrainingError) as error:
        print(f"fairmot train: error: {error}", file=sys.stderr)
        return 2
    except TrainingInterrupted as stop:
        print(f"fairmot train: {stop}; rerun the same command to resume", file=sys.stderr)
        return 130
    summary = " ".join(f"{k}={v}" for k, v in result.metrics.items())
    print(f"done: {result.epochs_done} epoch(s), model in {result.model_dir} ({summary})")
    return 0
