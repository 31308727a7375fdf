"""`fairmot eval RESULTS GT`: MOT Challenge metrics (MOTA, IDF1, HOTA, ...) of tracking results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fairmot.evaluation import EvalReport, evaluate, load_gt, load_results


def evaluate_paths(results: Path, gt: Path) -> tuple[EvalReport, list[str]]:
    """Evaluate result files against ground truth; also returns the sequences without results."""
    gt_by_seq = load_gt(gt)
    results_by_seq = load_results(results, list(gt_by_seq))
    missing = [name for name in gt_by_seq if name not in results_by_seq]
    if len(missing) == len(gt_by_seq):
        raise FileNotFoundError(
            f"no results in {results} match the ground-truth sequences {sorted(gt_by_seq)}; "
            "name result files <sequence>.txt"
        )
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        report, missing = evaluate_paths(args.results, args.gt)
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
