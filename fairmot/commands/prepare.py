"""`fairmot prepare`: make (or add to) a dataset directory from MOT, JDE or CrowdHuman data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("mot", "jde", "crowdhuman")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="make a dataset directory from MOT16/17/20, JDE (MIX) or CrowdHuman downloads",
        description=(
            "Write OUT with one directory per sequence and manifest.json; run it again with "
            "another source and OUT to combine datasets in one manifest. --format mot: every "
            "sequence with ground truth under SRC (e.g. MOT17/train/MOT17-02-FRCNN), one "
            "detector variant per MOT17 sequence (FRCNN). --format jde: SRC is the data root "
            "the --list files (e.g. caltech.train) are relative to, labels in labels_with_ids "
            "(id -1: detection only). --format crowdhuman: SRC holds Images/ and the .odgt "
            "file (--annotations). Images are hard-linked where possible."
        ),
    )
    parser.add_argument("mot_dir", metavar="SRC", help="unpacked download (see --format)")
    parser.add_argument("out", metavar="OUT", help="dataset directory to write or add to")
    parser.add_argument("--format", choices=FORMATS, default="mot", help="source layout")
    parser.add_argument("--name", default=None, help="dataset name (default: OUT's name)")
    parser.add_argument(
        "--list",
        action="append",
        default=[],
        metavar="FILE",
        help="jde: an image list (*.train); repeat for several datasets",
    )
    parser.add_argument(
        "--annotations",
        default=None,
        metavar="FILE",
        help="crowdhuman: the .odgt file (default SRC/annotation_train.odgt)",
    )
    parser.add_argument(
        "--ids",
        choices=("none", "per-box"),
        default="none",
        help="crowdhuman: boxes without identity (default) or one identity per box",
    )
    parser.add_argument(
        "--link",
        choices=("hardlink", "symlink", "copy"),
        default="hardlink",
        help="how images are placed in OUT (default hardlink, copying across filesystems)",
    )
    parser.set_defaults(func=run)


def convert(args: argparse.Namespace) -> Path:
    """Run the conversion the arguments ask for; returns OUT."""
    from fairmot.data.errors import DatasetError
    from fairmot.data.prepare import add_to_manifest, prepare_dataset, write_collection

    src, out = Path(args.mot_dir), Path(args.out)
    if args.format == "mot":
        return prepare_dataset(src, out, name=args.name, link=args.link)
    if not src.is_dir():
        raise DatasetError(f"{src}: not a directory")
    names = []
    if args.format == "jde":
        from fairmot.data.jde import dataset_name, read_jde_list

        if not args.list:
            raise DatasetError("--format jde needs at least one --list FILE (e.g. caltech.train)")
        sources = [(dataset_name(Path(f)), read_jde_list(src, Path(f))) for f in args.list]
    else:
        from fairmot.data.crowdhuman import IMAGES_DIR, collection_name, read_odgt

        annotations = Path(args.annotations or src / "annotation_train.odgt")
        frames = read_odgt(annotations, src / IMAGES_DIR, per_box_ids=args.ids == "per-box")
        sources = [(collection_name(annotations), frames)]
    out.mkdir(parents=True, exist_ok=True)
    for name, frames in sources:  # every source read before anything is written
        names.append(write_collection(out, name, frames, link=args.link))
    add_to_manifest(out, names, args.name)
    return out


def run(args: argparse.Namespace) -> int:
    from fairmot.data.manifest import read_manifest

    try:
        out = convert(args)
    except ValueError as error:
        print(f"fairmot prepare: {error}", file=sys.stderr)
        return 2
    manifest = read_manifest(out)
    print(f"wrote {out} with {len(manifest.sequences)} sequences: {', '.join(manifest.sequences)}")
    return 0
