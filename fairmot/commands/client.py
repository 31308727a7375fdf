"""`fairmot client stream VIDEO`: stream a video to an endpoint and write the tracked result."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "client",
        help="stream a video to a tracking endpoint (SageMaker or a local `serve`)",
        description="Talk to a deployed tracking endpoint with the notebook protocol.",
    )
    actions = parser.add_subparsers(dest="client_command", metavar="ACTION", required=True)
    stream = actions.add_parser(
        "stream",
        help="send every frame of VIDEO and write annotated.mp4, tracks.txt, tracks.json, summary.json",
        description=(
            "Send VIDEO frame by frame (base64 JPEG in JSON) to a SageMaker endpoint "
            "(--endpoint, boto3 credentials and region) or a local serve (--url), in a stateful "
            "session when the endpoint supports one, and write the tracked result to --out."
        ),
    )
    stream.add_argument("video", type=Path, help="video file (mp4, avi, ...) or image folder")
    target = stream.add_mutually_exclusive_group(required=True)
    target.add_argument("--endpoint", help="SageMaker endpoint name (invoke_endpoint)")
    target.add_argument("--url", help="base URL of a local serve, e.g. http://127.0.0.1:8080")
    stream.add_argument("--out", type=Path, required=True, help="output folder")
    stream.add_argument("--region", help="AWS region of the endpoint (default: boto3's)")
    stream.add_argument(
        "--batch-size", type=int, default=1, help="frames per request (default 1, as the notebook)"
    )
    stream.add_argument(
        "--no-session", action="store_true", help="do not open a SageMaker stateful session"
    )
    stream.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    stream.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fairmot.client import (
        EndpointError,
        HttpTransport,
        SageMakerTransport,
        Transport,
        stream_video,
    )
    from fairmot.video import VideoError

    if args.batch_size < 1:
        print("--batch-size must be at least 1", file=sys.stderr)
        return 2
    transport: Transport = (
        HttpTransport(args.url)
        if args.url
        else SageMakerTransport(args.endpoint, region=args.region)
    )
    try:
        summary = stream_video(
            args.video,
            transport,
            args.out,
            batch_size=args.batch_size,
            use_session=not args.no_session,
            write_video=not args.no_video,
            progress=sys.stderr.isatty(),
        )
    except (EndpointError, VideoError, OSError) as error:
        print(f"client: {error}", file=sys.stderr)
        return 1
    print(json.dumps({k: summary[k] for k in ("frames", "tracks", "fps", "client")}))
    return 0
