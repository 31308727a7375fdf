"""`fairmot track VIDEO|IMG_DIR --model ARTIFACT --out DIR`: track people in one video."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Exit status for bad input (a video or model that cannot be used), as argparse uses for usage.
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "track",
        help="track people in a video or a folder of images",
        description=(
            "Detect and track people in a video file (mp4, avi, mov, mkv, anything FFmpeg reads) "
            "or a folder of images (a MOT Challenge sequence or its img1/). Writes into OUT: "
            "annotated.mp4, tracks.txt, tracks.json and summary.json (an H.264 video with boxes, ids and trails; MOT "
            "Challenge results; per-frame JSON; frame count, speed and per-stage timings). "
            "Files appear only when the run succeeds."
        ),
    )
    parser.add_argument("video", type=Path, metavar="VIDEO|IMG_DIR", help="input video or folder")
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        help="model artifact: model.tar.gz, a directory with model.pt + model.json, or a .pt",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--conf-thres",
        type=float,
        default=None,
        help="detection score threshold (default: the model card's, else 0.4)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=4, help="frames per forward pass (default 4)"
    )
    parser.add_argument(
        "--no-video", action="store_true", help="skip annotated.mp4 (faster: no encoding)"
    )
    parser.add_argument(
        "--device", default="auto", help="torch device: auto (cuda if present), cpu, cuda:0, ..."
    )
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate of an image folder (default 30)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--scene",
        type=Path,
        default=None,
        help="scene file (lines, zones, calibration): adds analytics.json, CSVs and pictures",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Spinning OpenMP workers steal the cores the decode/encode threads need (forward passes ran
    # ~4x slower on a loaded 2-core machine). Only effective before torch loads; the user's
    # own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from fairmot.analytics import SceneError, load_scene
    from fairmot.model import ArtifactError, load_artifact
    from fairmot.pipeline import FramePipeline
    from fairmot.video import VideoError, open_video

    if args.batch_size < 1:
        print(
            f"fairmot track: --batch-size must be at least 1, got {args.batch_size}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.fps is not None and args.fps <= 0:
        print(f"fairmot track: --fps must be positive, got {args.fps:g}", file=sys.stderr)
        return EXIT_BAD_INPUT
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        scene = load_scene(args.scene) if args.scene is not None else None
        video = open_video(args.video, fps=args.fps)
        loaded = load_artifact(args.model, device=device)
        pipeline = FramePipeline(
            loaded, device=device, conf_thres=args.conf_thres, batch_size=args.batch_size
        )
        summary = pipeline.track_video(
            video, args.out, progress=not args.quiet, write_video=not args.no_video, scene=scene
        )
    except (VideoError, ArtifactError, SceneError) as error:
        print(f"fairmot track: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    per_frame = summary.to_json()["timings_ms_per_frame"]
    stages = " ".join(f"{stage}={ms:.1f}" for stage, ms in per_frame.items())
    print(
        f"tracked {summary.frames} frames of {summary.video} in {summary.seconds:.1f} s "
        f"({summary.fps:.1f} fps): {summary.tracks} tracks; ms/frame {stages}; "
        f"outputs in {args.out}"
    )
    return 0
