"""The `fairmot` command: one subcommand per module in fairmot.commands.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed namespace and returning an exit code. Heavy imports
(torch, boto3, moto) stay inside those callables so `fairmot --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "synth",
    "prepare",
    "train",
    "track",
    "eval",
    "analytics",
    "export",
    "upload_dataset",
    "client",
    "local",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fairmot",
        description=(
            "FairMOT multi-object tracking: make or prepare data, train, track videos, "
            "evaluate with MOT Challenge metrics, and run the AWS pipeline locally."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"fairmot.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
