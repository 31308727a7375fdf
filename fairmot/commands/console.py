"""`fairmot console`: the operator console in the browser (see fairmot.console)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fairmot.commands.local import STATE_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console",
        help="a web page of executions, workflow graphs, jobs, events and processed videos",
        description=(
            "Serve the operator console for the local stack (`fairmot local up`) or, with "
            "--stack NAME, a deployed stack read through boto3 with your AWS credentials. It "
            "listens on 127.0.0.1 only unless --host says otherwise (it has no login)."
        ),
    )
    parser.add_argument("--stack", help="a deployed CloudFormation stack (default: the local one)")
    parser.add_argument("--region", help="AWS region of --stack (default: boto3's)")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help="the local stack's")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fairmot.console.server import ConsoleServer
    from fairmot.console.source import ConsoleError, deployed_source, local_source

    try:
        source = (
            deployed_source(args.stack, args.region) if args.stack else local_source(args.state_dir)
        )
        server = ConsoleServer(source, args.host, args.port)
    except (ConsoleError, OSError) as error:
        print(f"fairmot console: {error}", file=sys.stderr)
        return 1
    print(f"console at {server.url}  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
