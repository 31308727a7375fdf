"""Quality of the CPU training recipe on synthetic data: detection, re-ID and tracking.

Generates a training set and a held-out test set (different seeds, printed), trains with a
recipe (or takes --model), then tracks every held-out frame and prints detection precision and
recall at IoU 0.5 (at the conf_thres the model card ships), re-ID top-1 (each query detection
against the same sequence's detections at least 10 frames away), MOTA, IDF1 and HOTA, with the
targets of the `lite` recipe and the wall time (this machine's 2 cores are shared: times are
inflated by whatever else runs).

    .venv/bin/python bench/quality.py --recipe lite --out /tmp/quality
    .venv/bin/python bench/quality.py --model /tmp/quality/model
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

# Targets of the lite recipe (held-out synthetic sequences).
TARGETS = {"precision": 0.9, "recall": 0.85, "reid_top1": 0.85, "mota": 0.75, "idf1": 0.75}
TRAIN_SEED = 1001
TEST_SEED = 777_001  # never used for training data anywhere in the project


def synthetic(args: argparse.Namespace, role: str, sequences: int, frames: int, seed: int) -> Path:
    """A synthetic dataset under --out, generated once per (role, seed, size)."""
    from fairmot.data import generate_dataset

    out = args.out / f"{role}-{seed}-{sequences}x{frames}"
    if not (out / "manifest.json").exists():
        generate_dataset(
            out, sequences=sequences, frames=frames, width=args.width, height=args.height, seed=seed
        )
    print(f"{role} set: {sequences} sequences x {frames} frames, seed {seed} ({out})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/fairmot-quality"))
    parser.add_argument("--recipe", default="lite", help="lite | quick | paper")
    parser.add_argument(
        "--model", type=Path, default=None, help="evaluate this artifact, no training"
    )
    parser.add_argument("--train-seed", type=int, default=TRAIN_SEED)
    parser.add_argument("--test-seed", type=int, default=TEST_SEED)
    parser.add_argument("--train-sequences", type=int, default=100)
    parser.add_argument("--train-frames", type=int, default=25)
    parser.add_argument("--test-sequences", type=int, default=4)
    parser.add_argument("--test-frames", type=int, default=60)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe hyperparameter (repeatable)",
    )
    parser.add_argument(
        "--conf-thres", type=float, default=None, help="evaluate at this threshold, not the card's"
    )
    args = parser.parse_args()

    from fairmot.data import read_manifest, read_sequence
    from fairmot.model import load_artifact
    from fairmot.train.hparams import TrainConfig
    from fairmot.train.loop import train
    from fairmot.train.recipes import recipe
    from fairmot.train.validate import evaluate_model

    args.out.mkdir(parents=True, exist_ok=True)
    test_dir = synthetic(args, "test", args.test_sequences, args.test_frames, args.test_seed)

    model_dir = args.model
    train_minutes = float("nan")
    if model_dir is None:
        train_dir = synthetic(
            args, "train", args.train_sequences, args.train_frames, args.train_seed
        )
        values = recipe(args.recipe)
        values.update(dict(item.split("=", 1) for item in args.set))
        config = TrainConfig.from_strings(values)
        print(f"recipe {args.recipe}: {config.as_strings()}")
        model_dir = args.out / "model"
        started = time.monotonic()
        train(config, train_dir, model_dir, None)
        train_minutes = (time.monotonic() - started) / 60

    loaded = load_artifact(model_dir)
    manifest = read_manifest(test_dir)
    sequences = [read_sequence(test_dir / name) for name in manifest.sequences]
    started = time.monotonic()
    report = evaluate_model(loaded, sequences, conf_thres=args.conf_thres)
    eval_s = time.monotonic() - started
    results = {
        "precision": report.precision,
        "recall": report.recall,
        "reid_top1": report.reid_top1,
        "mota": report.mota,
        "idf1": report.idf1,
        "hota": report.hota,
    }
    conf = args.conf_thres or loaded.card.hyperparameters.get("conf_thres", "0.4")
    print(
        f"\nheld-out quality (conf_thres {conf}, {report.frames} frames, "
        f"{report.reid_queries} re-ID queries):"
    )
    for name, value in results.items():
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else ("  ok" if value >= target else f"  BELOW target {target}")
        )
        print(f"  {name:<10} {value:.3f}{verdict}")
    print(
        f"train wall time {train_minutes:.1f} min (shared 2-core CPU); "
        f"tracking {report.frames / eval_s:.1f} frames/s"
    )
    (args.out / "quality.json").write_text(
        json.dumps(
            {
                **results,
                "train_minutes": train_minutes,
                "test_seed": args.test_seed,
                "train_seed": args.train_seed,
                "model": str(model_dir),
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
