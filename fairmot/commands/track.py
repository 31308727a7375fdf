"""`fairmot track VIDEO|IMG_DIR --model ARTIFACT --out DIR`: track people in one video."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Exit status for bad input (a video or model that cannot be used), as argparse uses for usage.
EXIT_BAD_INPUT = 2
# Exit status of a run whose results are complete only up to where the video stopped decoding.
EXIT_TRUNCATED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "track",
        help="track people in a video or a folder of images",
        description=(
            "Detect and track people in a video file (mp4, avi, mov, mkv, anything FFmpeg reads) "
            "or a folder of images (a MOT Challenge sequence or its img1/). Writes into OUT: "
            "annotated.mp4, tracks.txt, tracks.json and summary.json (an H.264 video with boxes, ids and trails; MOT "
            "Challenge results; per-frame JSON; frame count, speed and per-stage timings). "
            "Files appear only when the run succeeds; a truncated video keeps the frames that "
            "decoded (summary.json says truncated: true; exit status 1)."
        ),
    )
    parser.add_argument("video", type=Path, metavar="VIDEO|IMG_DIR", help="input video or folder")
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        help="model: model.tar.gz, a directory with model.pt + model.json, a .pt/.pth, or an "
        ".onnx from `fairmot export`",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder; when it holds an earlier run, results go to OUT2, OUT3... "
        "unless --exist-ok",
    )
    parser.add_argument(
        "--exist-ok", action="store_true", help="write into OUT even if it holds an earlier run"
    )
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
        "--backend",
        default="auto",
        help="network runtime: auto (onnxruntime for .onnx and on CPUs where installed, "
        "else torch), torch, onnxruntime",
    )
    parser.add_argument(
        "--device", default="auto", help="device: auto (cuda if present), cpu, cuda:0, ..."
    )
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate of an image folder (default 30)"
    )
    parser.add_argument(
        "--start", type=int, default=0, help="first frame to track, counted from 0 (default 0)"
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="number of frames to track (default: all)"
    )
    parser.add_argument(
        "--tracker",
        default=None,
        help="tracker name (fairbyte, fairmot: the reference) or YAML file "
        "(default: the tracker the model card was validated with, else fairbyte)",
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
    from fairmot.analytics import SceneError, load_scene
    from fairmot.backends import BackendError, load_network
    from fairmot.model import ArtifactError
    from fairmot.pipeline import FramePipeline
    from fairmot.pipeline.results_dir import ResultsDirError, results_dir
    from fairmot.tracking import TrackerConfigError
    from fairmot.video import VideoError, open_video

    problem = _check_numbers(args)
    if problem:
        print(f"fairmot track: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        scene = load_scene(args.scene) if args.scene is not None else None
        out = results_dir(args.out, exist_ok=args.exist_ok)
        network = load_network(args.model, backend=args.backend, device=args.device)
        pipeline = FramePipeline(
            network,
            conf_thres=args.conf_thres,
            batch_size=args.batch_size,
            tracker_config=args.tracker,
        )
        summary = pipeline.track_video(
            open_video(args.video, fps=args.fps),
            out,
            progress=not args.quiet,
            write_video=not args.no_video,
            start=args.start,
            frames=args.frames,
            scene=scene,
        )
    except (
        VideoError,
        ArtifactError,
        BackendError,
        ResultsDirError,
        TrackerConfigError,
        SceneError,
    ) as error:
        print(f"fairmot track: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    per_frame = summary.to_json()["timings_ms_per_frame"]
    stages = " ".join(f"{stage}={ms:.1f}" for stage, ms in per_frame.items())
    print(
        f"tracked {summary.frames} frames of {summary.video} in {summary.seconds:.1f} s "
        f"({summary.fps:.1f} fps, {pipeline.network.name}): {summary.tracks} tracks; "
        f"ms/frame {stages}; outputs in {out}"
    )
    if summary.tracks == 0:
        print(
            f"fairmot track: no tracks in {summary.frames} frames: the model detected nobody "
            f"above {pipeline.decode_thres:g}. An untrained or undertrained model "
            "does this (check its loss curve), or the people are much smaller or larger than "
            "in its training data; try a lower --conf-thres",
            file=sys.stderr,
        )
    if summary.truncated:
        print(
            f"fairmot track: {summary.video} is truncated: decoding stopped after "
            f"{summary.frames} frames; the results cover those frames",
            file=sys.stderr,
        )
        return EXIT_TRUNCATED
    return 0


def _check_numbers(args: argparse.Namespace) -> str | None:
    if args.batch_size < 1:
        return f"--batch-size must be at least 1, got {args.batch_size}"
    if args.fps is not None and args.fps <= 0:
        return f"--fps must be positive, got {args.fps:g}"
    if args.start < 0:
        return f"--start must be 0 or more, got {args.start}"
    if args.frames is not None and args.frames < 1:
        return f"--frames must be at least 1, got {args.frames}"
    return None
