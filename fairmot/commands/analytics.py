"""`fairmot analytics TRACKS --scene FILE --fps N --out DIR`: what a tracks file says."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analytics",
        help="line counts, zone occupancy, distance and speed of a MOT tracks or gt file",
        description=(
            "Compute track analytics against a scene file (lines, zones, optional ground-plane "
            "calibration) from any MOT Challenge tracks file (tracks.txt, results) or ground "
            "truth (gt/gt.txt): analytics.json, a CSV per table, a trajectory plot and an "
            "occupancy heat map, in OUT. Ground truth with classes counts pedestrians only. For a "
            "sequence's gt/gt.txt, --fps and the picture's background default to its "
            "seqinfo.ini and first image."
        ),
    )
    parser.add_argument("tracks", type=Path, help="MOT Challenge file: frame,id,x,y,w,h,...")
    parser.add_argument("--scene", type=Path, required=True, help="scene file (YAML or JSON)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of the tracks")
    parser.add_argument(
        "--background", type=Path, default=None, help="image under the pictures (a video frame)"
    )
    parser.add_argument(
        "--smooth-s",
        type=float,
        default=None,
        help="seconds positions are averaged over for distance and speed (default 1; 0: none, "
        "for exact paths)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import cv2

    from fairmot.analytics import SceneError, analyse_rows, load_scene, totals, write_analytics
    from fairmot.data.mot import PEDESTRIAN_CLASS
    from fairmot.evaluation.mot_files import read_mot_gt

    def fail(message: str) -> int:
        print(f"fairmot analytics: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    try:
        scene = load_scene(args.scene)
    except SceneError as error:
        return fail(str(error))
    if not args.tracks.is_file():
        return fail(f"{args.tracks}: no such tracks file")
    try:
        rows = read_mot_gt(args.tracks)
    except ValueError as error:
        return fail(str(error))
    # Ground truth with classes (MOT16/17/20) also boxes vehicles and distractors: people only.
    rows = rows[rows[:, 7] == PEDESTRIAN_CLASS]
    sequence = _sequence_of(args.tracks)
    fps = args.fps if args.fps is not None else (sequence or {}).get("fps")
    if fps is None:
        return fail("--fps is needed (the tracks file is not inside a MOT sequence)")
    if fps <= 0:
        return fail(f"--fps must be positive, got {fps:g}")
    background_path = args.background or (sequence or {}).get("first_image")
    background = None
    if background_path is not None:
        background = cv2.imread(str(background_path))
        if background is None:
            return fail(f"{background_path}: not an image")
    if background is not None:
        size = (background.shape[1], background.shape[0])
    elif sequence is not None:
        size = sequence["size"]
    else:
        size = _extent(rows)
    if args.smooth_s is not None and args.smooth_s < 0:
        return fail(f"--smooth-s must be >= 0, got {args.smooth_s:g}")
    smoothing = {} if args.smooth_s is None else {"smooth_s": args.smooth_s}
    # Speeds skip boxes cut by the frame's border, where the frame size is known (not guessed).
    known = background is not None or sequence is not None
    analytics = analyse_rows(rows, scene, fps, frame_size=size if known else None, **smoothing)
    report = analytics.report()
    write_analytics(args.out, report, size=size, background=background, overlay=analytics.overlay())
    summary = totals(report)
    counts = " ".join(
        f"{name}: in={v['in']} out={v['out']};" for name, v in summary["lines"].items()
    )
    distance = (
        f"{summary['distance_m']:.1f} m"
        if "distance_m" in summary
        else (f"{summary['distance_px']:.0f} px")
    )
    print(f"{len(report['tracks'])} tracks, {counts} distance {distance}; analytics in {args.out}")
    return 0


def _sequence_of(tracks: Path) -> dict[str, Any] | None:
    """fps, size and first image of the MOT sequence a gt/gt.txt belongs to, if it does."""
    from fairmot.data.errors import DatasetError
    from fairmot.data.mot import read_sequence

    seq_dir = tracks.resolve().parent.parent
    if not (seq_dir / "seqinfo.ini").is_file():
        return None
    try:
        seq = read_sequence(seq_dir, check_images=False)
    except DatasetError:
        return None
    first = seq.image_path(1) if seq.length else None
    return {
        "fps": float(seq.frame_rate),
        "size": (seq.width, seq.height),
        "first_image": first if first is not None and first.is_file() else None,
    }


def _extent(rows: np.ndarray) -> tuple[int, int]:
    """Picture size for tracks without a video: enough to hold every box."""
    if len(rows) == 0:
        return (64, 64)
    return (int((rows[:, 2] + rows[:, 4]).max()) + 1, int((rows[:, 3] + rows[:, 5]).max()) + 1)
