"""`fairmot local demo|up|down`: the AWS pipeline offline, on moto (see fairmot.local)."""

from __future__ import annotations

import argparse
from pathlib import Path

STATE_DIR = Path(".fairmot-local")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run the AWS pipeline offline: the demo, or a local stack for experiments",
        description=(
            "Local mode: template.yaml deployed into moto, the real state machines and Lambda "
            "handlers, SageMaker jobs and endpoints as local processes of the container entry "
            "points."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    demo = actions.add_parser(
        "demo",
        help="synthetic data -> training -> deploy -> streaming -> batch -> MOTA/IDF1",
        description="Run the whole pipeline end to end on the CPU and write its outputs.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    demo.add_argument(
        "--quick", action="store_true", help="less data and the ~2-minute training recipe"
    )
    demo.add_argument("--template", type=Path, default=Path("template.yaml"))
    demo.add_argument(
        "--wait-scale",
        type=float,
        default=0.1,
        help="scale of Wait-state and Retry seconds (1 = real time)",
    )
    demo.set_defaults(func=run_demo)

    up = actions.add_parser(
        "up",
        help="start the local stack in the background (moto server on 127.0.0.1)",
        description=(
            "Start the local stack in the background and print its endpoint URL, bucket and "
            "bus; use `aws --endpoint-url URL ...` or boto3 with endpoint_url=URL against it. "
            f"State lives in {STATE_DIR}/; stop it with `fairmot local down`."
        ),
    )
    up.add_argument("--template", type=Path, default=Path("template.yaml"))
    up.add_argument("--port", type=int, help="loopback port (default: a free one)")
    up.add_argument("--wait-scale", type=float, default=1.0, help="scale of Wait/Retry seconds")
    up.add_argument("--state-dir", type=Path, default=STATE_DIR)
    up.set_defaults(func=run_up)

    down = actions.add_parser("down", help="stop the local stack started by `fairmot local up`")
    down.add_argument("--state-dir", type=Path, default=STATE_DIR)
    down.set_defaults(func=run_down)


def _missing_template(template: Path) -> bool:
    if template.is_file():
        return False
    print(f"{template}: no such template; run from the repository root or pass --template PATH")
    return True


def run_demo(args: argparse.Namespace) -> int:
    from fairmot.local.demo import DemoConfig, run_demo

    if _missing_template(args.template):
        return 2
    return run_demo(
        DemoConfig(
            out=args.out, template=args.template, quick=args.quick, wait_scale=args.wait_scale
        )
    )


def run_up(args: argparse.Namespace) -> int:
    from fairmot.local.daemon import start

    if _missing_template(args.template):
        return 2
    try:
        stack = start(args.state_dir, args.template, args.port, args.wait_scale)
    except RuntimeError as error:
        print(error)
        return 1
    url = stack["endpoint_url"]
    print(f"local stack running (state in {args.state_dir}/, log in {args.state_dir}/stack.log)")
    print(f"  endpoint URL : {url}   (export AWS_ENDPOINT_URL={url})")
    print(f"  bucket       : {', '.join(stack['buckets'].values())}")
    print(f"  event bus    : {', '.join(stack['buses'].values())}")
    for name, arn in stack["state_machines"].items():
        print(f"  {name:<13}: {arn}")
    print(f"  try          : aws --endpoint-url {url} s3 ls")
    return 0


def run_down(args: argparse.Namespace) -> int:
    from fairmot.local.daemon import stop

    if stop(args.state_dir):
        print("local stack stopped")
    else:
        print("no local stack was running")
    return 0
