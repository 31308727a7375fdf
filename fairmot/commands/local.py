"""`fairmot local demo|up|down|env|status|logs|invoke|upload`: the AWS pipeline offline, on moto (see fairmot.local)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fairmot.local_client import RunningStack

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

    env = actions.add_parser(
        "env", help="print the exports that point boto3 and the AWS CLI at the local stack"
    )
    env.add_argument("--state-dir", type=Path, default=STATE_DIR)
    env.set_defaults(func=run_env)

    status = actions.add_parser(
        "status", help="executions and their current state, SageMaker jobs, endpoints"
    )
    status.add_argument("--state-dir", type=Path, default=STATE_DIR)
    status.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="first wait (at most SECONDS) until nothing runs; exit 1 if an execution failed",
    )
    status.set_defaults(func=run_status)

    logs = actions.add_parser("logs", help="a SageMaker job's log or an execution's history")
    logs.add_argument("name", help="job name, endpoint name, or execution name/ARN")
    logs.add_argument("--tail", type=int, help="only the last N lines")
    logs.add_argument("--state-dir", type=Path, default=STATE_DIR)
    logs.set_defaults(func=run_logs)

    invoke = actions.add_parser(
        "invoke",
        help="run a Lambda handler of the stack on an event file (`sam local invoke`, no Docker)",
    )
    invoke.add_argument(
        "function", help="logical id from template.yaml, e.g. NormaliseEventFunction"
    )
    invoke.add_argument("--event", type=Path, required=True, help="JSON event file, e.g. events/")
    invoke.add_argument("--state-dir", type=Path, default=STATE_DIR)
    invoke.set_defaults(func=run_invoke)

    upload = actions.add_parser(
        "upload",
        help="copy a file (or a folder of frames, as mp4) to the local stack's S3",
        description="What `aws s3 cp` does against the local stack, without the AWS CLI.",
    )
    upload.add_argument("source", type=Path, help="a file, or a frames folder such as SEQ/img1")
    upload.add_argument(
        "destination", help="s3://BUCKET/KEY, e.g. s3://fairmot-databucket/videos/a.mp4"
    )
    upload.add_argument("--fps", type=float, default=30.0, help="frame rate of an encoded folder")
    upload.add_argument("--state-dir", type=Path, default=STATE_DIR)
    upload.set_defaults(func=run_upload)


def _missing_template(template: Path) -> bool:
    if template.is_file():
        return False
    print(f"{template}: no such template; run from the repository root or pass --template PATH")
    return True


def run_demo(args: argparse.Namespace) -> int:
    from fairmot.demo import DemoConfig, run_demo

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
        stack = start(args.state_dir.resolve(), args.template, args.port, args.wait_scale)
    except RuntimeError as error:
        print(error)
        return 1
    url = stack["endpoint_url"]
    print(f"local stack running (state in {args.state_dir}/, log in {args.state_dir}/stack.log)")
    print(f"  endpoint URL : {url}   (export AWS_ENDPOINT_URL={url})")
    print(f"  bucket       : {', '.join(stack['buckets'].values())}")
    print(f"  event bus    : {', '.join(stack['buses'].values())}")
    for name, value in stack["outputs"].items():
        if name.endswith("QueueUrl"):
            print(f"  results queue: {value}")
    for name, arn in stack["state_machines"].items():
        print(f"  {name:<13}: {arn}")
    print('  next         : eval "$(fairmot local env)"   # then boto3 / aws CLI reach the stack')
    return 0


def run_down(args: argparse.Namespace) -> int:
    from fairmot.local.daemon import stop

    if stop(args.state_dir.resolve()):
        print("local stack stopped")
    else:
        print("no local stack was running")
    return 0


def _running(state_dir: Path) -> RunningStack | None:
    from fairmot.local_client import RunningStack, StackNotRunning

    try:
        return RunningStack.open(state_dir)
    except StackNotRunning as error:
        print(error, file=sys.stderr)
        return None


def run_env(args: argparse.Namespace) -> int:
    stack = _running(args.state_dir)
    if stack is None:
        return 1
    for key, value in stack.environment().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from fairmot.local_client import view
    from fairmot.operator import status_lines, wait_until_idle

    stack = _running(args.state_dir)
    if stack is None:
        return 1
    failed: list[str] = []
    if args.wait is not None:
        try:
            failed = wait_until_idle(view(stack), args.wait)
        except TimeoutError as error:
            print(f"fairmot local status: {error}", file=sys.stderr)
            return 1
    print("\n".join(status_lines(view(stack))))
    if failed:
        print(f"failed: {', '.join(failed)} (see `fairmot local logs NAME`)", file=sys.stderr)
    return 1 if failed else 0


def run_logs(args: argparse.Namespace) -> int:
    from fairmot.local_client import job_log, view
    from fairmot.operator import execution_lines

    stack = _running(args.state_dir)
    if stack is None:
        return 1
    log = job_log(stack, args.name)
    lines = log.read_text(errors="replace").splitlines() if log else None
    if lines is None:
        lines = execution_lines(view(stack), args.name)
    if lines is None:
        print(f"no job, endpoint or execution named {args.name!r}", file=sys.stderr)
        return 1
    print("\n".join(lines[-args.tail :] if args.tail else lines))
    return 0


def run_invoke(args: argparse.Namespace) -> int:
    from fairmot.local_client import view
    from fairmot.operator import invoke

    stack = _running(args.state_dir)
    if stack is None:
        return 1
    try:
        event = json.loads(args.event.read_text())
        payload, error = invoke(view(stack), stack.function_name(args.function), event)
    except (OSError, ValueError, KeyError) as problem:
        print(f"fairmot local invoke: {problem}", file=sys.stderr)
        return 2
    print(json.dumps(payload, indent=2))
    return 1 if error else 0


def run_upload(args: argparse.Namespace) -> int:
    from fairmot.local_client import view
    from fairmot.operator import upload

    stack = _running(args.state_dir)
    if stack is None:
        return 1
    try:
        sent = upload(view(stack), args.source, args.destination, stack.work_dir, args.fps)
        print(f"uploaded {sent}")
    except ValueError as error:
        print(f"fairmot local upload: {error}", file=sys.stderr)
        return 2
    return 0
