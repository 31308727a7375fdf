"""`fairmot synth`: write a synthetic MOT Challenge dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write synthetic pedestrian sequences (MOT Challenge format) with ground truth",
        description=(
            "Render street scenes with walking, stopping, crossing and occluded people-like "
            "figures and write them as MOT Challenge sequences (seqinfo.ini, img1/*.jpg, "
            "gt/gt.txt) plus manifest.json: a dataset directory ready for `fairmot train`. "
            "Deterministic for a seed; another seed gives new scenes and new identities."
        ),
    )
    parser.add_argument("out", help="output dataset directory")
    parser.add_argument("--sequences", type=int, default=2, help="number of sequences (default 2)")
    parser.add_argument("--frames", type=int, default=300, help="frames per sequence (default 300)")
    parser.add_argument("--width", type=int, default=640, help="frame width (default 640)")
    parser.add_argument("--height", type=int, default=360, help="frame height (default 360)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--density", type=float, default=6.0, help="mean number of people in view (default 6)"
    )
    parser.add_argument("--fps", type=int, default=30, help="frame rate (default 30)")
    parser.add_argument("--name", default=None, help="dataset name in the manifest")
    parser.add_argument(
        "--exist-ok",
        action="store_true",
        help="write into OUT even if it already holds files (a dataset's sequences are replaced)",
    )
    parser.add_argument(
        "--recipe", help="write this training recipe's hyperparameters into the manifest"
    )
    parser.add_argument(
        "--deploy", action="store_true", help="manifest asks for deployment after training"
    )
    parser.add_argument(
        "--analytics",
        action="store_true",
        help="also write per sequence scene.yaml (lines, zone, calibration) and "
        "analytics_truth.json (true counts, crossings, distances, speeds of every walker)",
    )
    parser.add_argument(
        "--classes",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: people (default); 2: people and carts (gt class 6), with the manifest's class "
        "map training them as classes 0 and 1",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fairmot.data.synth import generate_dataset

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        print(f"fairmot synth: {out_dir} is a file, not a folder", file=sys.stderr)
        return 2
    if not args.exist_ok and out_dir.is_dir() and any(out_dir.iterdir()):
        what = "a dataset (manifest.json)" if (out_dir / "manifest.json").exists() else "files"
        print(
            f"fairmot synth: {out_dir} already holds {what}; choose a new folder or pass "
            "--exist-ok to write into it",
            file=sys.stderr,
        )
        return 2
    try:
        out = generate_dataset(
            args.out,
            sequences=args.sequences,
            frames=args.frames,
            width=args.width,
            height=args.height,
            seed=args.seed,
            density=args.density,
            fps=args.fps,
            name=args.name,
            progress=True,
            analytics=args.analytics,
            classes=args.classes,
        )
        if args.recipe or args.deploy:
            training_options(out, args.recipe, args.deploy)
    except ValueError as error:
        print(f"fairmot synth: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.sequences} sequences of {args.frames} frames to {out}")
    return 0


def training_options(dataset: Path, recipe_name: str | None, deploy: bool) -> None:
    """Put a recipe and `deploy` into manifest.json, as an uploaded dataset carries them."""
    from fairmot.data import read_manifest, write_manifest
    from fairmot.train.recipes import recipe

    manifest = read_manifest(dataset)
    hyperparameters = {**(recipe(recipe_name) if recipe_name else {}), **manifest.hyperparameters}
    update = {"hyperparameters": hyperparameters, "deploy": deploy or manifest.deploy}
    write_manifest(dataset, manifest.model_copy(update=update))
