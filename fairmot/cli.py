"""The `fairmot` command: one subcommand per module in fairmot.commands.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed namespace and returning an exit code. Heavy imports
(torch, boto3, moto) stay inside those callables so `fairmot --help` is instant.

Flags are spelt with hyphens (`--batch-size`); the underscore spelling of the hyperparameters
and the SageMaker names (`--batch_size`) is accepted everywhere, and a misspelt flag gets the
closest real ones suggested. Both rules live here, for every command, present and future.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
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
    "weights",
    "upload_dataset",
    "approve",
    "client",
    "local",
    "console",
    "replay",
)
# Exit status after a broken pipe, as a shell reports a process ended by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141


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


def hyphenate(argv: Sequence[str]) -> list[str]:
    """`--batch_size 4` and `--batch_size=4` as `--batch-size`; values and anything after a
    bare `--` stay as they are."""
    out: list[str] = []
    for position, token in enumerate(argv):
        if token == "--":
            return [*out, *argv[position:]]
        if token.startswith("--"):
            name, sep, value = token.partition("=")
            token = "--" + name[2:].replace("_", "-") + sep + value
        out.append(token)
    return out


def _subcommand(parser: argparse.ArgumentParser, token: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(token)
            return found if isinstance(found, argparse.ArgumentParser) else None
    return None


def check_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Exit with a usage error naming every unknown flag and the closest real ones, before
    argparse parses (it would first complain about a required flag the typo was meant to be).
    Each flag is checked against the (sub)command parser in force where it appears."""
    current, unknown = parser, []
    for token in argv:
        if token == "--":
            break
        if token.startswith("--"):
            if token.partition("=")[0] not in current._option_string_actions:
                unknown.append(token)
        elif not token.startswith("-"):
            current = _subcommand(current, token) or current
    if unknown:
        current.error(did_you_mean(unknown, current))


def did_you_mean(unknown: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """'unrecognized arguments' with the closest flags of `parser` for each misspelt one."""
    known = [flag for flag in parser._option_string_actions if flag.startswith("--")]
    parts = []
    for token in unknown:
        flag = token.partition("=")[0]
        close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
        parts.append(f"{token} (did you mean {close[0]}?)" if close else token)
    return "unrecognized arguments: " + " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
    except BrokenPipeError:
        # `fairmot ... | head` closed the pipe: stop quietly. Python would complain again when
        # flushing stdout at exit, so stdout goes to /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    argv = hyphenate(sys.argv[1:] if argv is None else argv)
    check_flags(parser, argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
