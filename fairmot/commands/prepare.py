"""`fairmot prepare`: make a dataset directory from an unpacked MOT16/17/20 download."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="make a dataset directory from MOT16/MOT17/MOT20 downloads",
        description=(
            "Find every sequence with ground truth under MOT_DIR (e.g. MOT17/train/MOT17-02-FRCNN), "
            "keep one detector variant per MOT17 sequence (FRCNN), and write OUT with one "
            "directory per sequence and manifest.json. Images are hard-linked where possible."
        ),
    )
    parser.add_argument("mot_dir", metavar="MOT_DIR", help="unpacked MOT Challenge download")
    parser.add_argument("out", metavar="OUT", help="dataset directory to write")
    parser.add_argument("--name", default=None, help="dataset name (default: OUT's name)")
    parser.add_argument(
        "--link",
        choices=("hardlink", "symlink", "copy"),
        default="hardlink",
        help="how images are placed in OUT (default hardlink, copying across filesystems)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fairmot.data.manifest import read_manifest
    from fairmot.data.prepare import prepare_dataset

    try:
        out = prepare_dataset(args.mot_dir, args.out, name=args.name, link=args.link)
    except ValueError as error:
        print(f"fairmot prepare: {error}", file=sys.stderr)
        return 2
    manifest = read_manifest(out)
    print(f"wrote {out} with {len(manifest.sequences)} sequences: {', '.join(manifest.sequences)}")
    return 0
