"""`fairmot eval RESULTS GT`: MOT Challenge metrics (MOTA, IDF1, HOTA, ...) of tracking results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fairmot.evaluation import EvalReport, evaluate, evaluate_classes, load_gt, load_results


def parse_classes(text: str) -> dict[int, int]:
    """`1:0,6:1` -> {1: 0, 6: 1} (gt class value -> class id); a bad one is a one-line error."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        mapping = {int(value): int(index) for value, index in pairs}
    except ValueError:
        raise ValueError(
            f"--classes {text!r}: expected GT_CLASS:CLASS_ID pairs, e.g. 1:0,6:1"
        ) from None
    if not mapping or sorted(set(mapping.values())) != list(range(len(set(mapping.values())))):
        raise ValueError(f"--classes {text!r}: class ids must be 0..K-1 without gaps")
    return mapping


def manifest_classes(gt: Path) -> dict[int, int] | None:
    """The class map of the dataset a ground-truth path is (or is in), if its manifest has one."""
    from pydantic import ValidationError

    from fairmot_contracts.manifest import MANIFEST_NAME, DatasetManifest

    for folder in (gt, gt.parent, gt.parent.parent, gt.parent.parent.parent):
        path = folder / MANIFEST_NAME
        if path.is_file():
            try:
                return DatasetManifest.model_validate_json(path.read_text()).classes
            except ValidationError as error:
                problem = error.errors()[0]
                where = ".".join(str(p) for p in problem["loc"]) or "manifest"
                raise ValueError(f"{path}: {where}: {problem['msg']}") from None
    return None


def evaluate_paths(
    results: Path, gt: Path, classes: dict[int, int] | None = None
) -> tuple[EvalReport, list[str]]:
    """Evaluate result files against ground truth; also returns the sequences without results.

    With a class map of several classes (given, or the gt dataset's manifest `classes`), the
    report has per-class metrics too (fairmot.evaluation.classes)."""
    gt_by_seq = load_gt(gt)
    classes = classes if classes is not None else manifest_classes(gt)
    multi = classes is not None and len(set(classes.values())) > 1
    results_by_seq = load_results(results, list(gt_by_seq), classes=multi)
    missing = [name for name in gt_by_seq if name not in results_by_seq]
    if len(missing) == len(gt_by_seq):
        raise FileNotFoundError(
            f"no results in {results} match the ground-truth sequences {sorted(gt_by_seq)}; "
            "name result files <sequence>.txt"
        )
    if multi:
        assert classes is not None
        return evaluate_classes(results_by_seq, gt_by_seq, classes), missing
    return evaluate(results_by_seq, gt_by_seq), missing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score tracking results against MOT Challenge ground truth",
        description=(
            "Compute MOT Challenge metrics (MOTA, IDF1, IDP, IDR, MT, ML, FP, FN, IDs, FM, MOTP "
            "with motmetrics; HOTA with TrackEval) per sequence and overall. MOT16/17 rules: "
            "ground-truth rows with mark 0 or a class other than pedestrian are ignored, and "
            "results matching distractor-class boxes are dropped."
        ),
    )
    parser.add_argument(
        "results",
        type=Path,
        help="a results file (frame,id,x,y,w,h,score,...) or a directory of <sequence>.txt",
    )
    parser.add_argument(
        "gt",
        type=Path,
        help="a gt.txt, a sequence directory (gt/gt.txt) or a dataset directory of sequences",
    )
    parser.add_argument("--out", type=Path, help="also write the metrics as JSON here")
    parser.add_argument(
        "--classes",
        help="multi-class results: gt class value -> class id pairs, e.g. 1:0,6:1 (default: "
        "the gt dataset's manifest `classes`, else pedestrians only); with several classes, "
        "metrics per class as well as overall",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        classes = parse_classes(args.classes) if args.classes else None
        report, missing = evaluate_paths(args.results, args.gt, classes)
    except (FileNotFoundError, ValueError) as error:
        print(f"fairmot eval: {error}", file=sys.stderr)
        return 2
    for name in missing:
        print(f"warning: no results for sequence {name}: counted as empty", file=sys.stderr)
    print(report.table())
    if args.out is not None:
        report.save_json(args.out)
        print(f"metrics written to {args.out}")
    return 0
