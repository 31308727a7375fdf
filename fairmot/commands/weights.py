"""`fairmot weights download NAME|URL --out DIR`: fetch pretrained weights, sha256-checked."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    from fairmot.model.zoo import ZOO

    parser = subparsers.add_parser(
        "weights",
        help="download pretrained weights (ImageNet DLA-34, CenterNet COCO, FairMOT zoo)",
        description="Pretrained weights the paper trains dla34 from.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    names = "; ".join(f"{name}: {w.description}" for name, w in ZOO.items())
    fetch = actions.add_parser(
        "download",
        help="download NAME or URL into DIR, verifying its sha256",
        description=(
            f"Known names: {names}. A URL needs --sha256 unless its file name carries the "
            "torch-hub hash prefix (name-<hex>.pth). Pass the file to training as load_model."
        ),
    )
    fetch.add_argument("source", metavar="NAME|URL", help="a known name or an http(s) URL")
    fetch.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    fetch.add_argument("--sha256", default="", metavar="HEX", help="expected sha256 (or prefix)")
    fetch.set_defaults(func=run_download)


def run_download(args: argparse.Namespace) -> int:
    from fairmot.model.zoo import WeightsError, download

    try:
        path = download(args.source, args.out, sha256=args.sha256)
    except WeightsError as error:
        print(f"fairmot weights: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} (sha256 verified); train with load_model={path}")
    return 0
