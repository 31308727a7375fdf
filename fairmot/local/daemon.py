"""`fairmot local up/down`: the local stack as a background process reachable over HTTP.

`up` starts `python -m fairmot.local.daemon STATE_DIR ...` detached; that process runs moto as a
loopback server with the seams and the deployed template, writes STATE_DIR/stack.json (endpoint
URL, bucket, bus, state machines...) and its pid to STATE_DIR/pid, then waits for SIGTERM. `down`
sends SIGTERM to the pid in the pid file and waits for it to go.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fairmot.local.deployer import REGION
from fairmot.local.stack import LocalAws, LocalSettings

STATE_FILE = "stack.json"
PID_FILE = "pid"
LOG_FILE = "stack.log"
START_TIMEOUT_S = 90.0


def start(state_dir: Path, template: Path, port: int | None, wait_scale: float) -> dict[str, Any]:
    """Start the daemon unless one runs; return the stack description."""
    state_dir.mkdir(parents=True, exist_ok=True)
    pid = running_pid(state_dir)
    if pid is not None:
        return json.loads((state_dir / STATE_FILE).read_text())
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "fairmot.local.daemon", str(state_dir),
        "--template", str(template.resolve()), "--wait-scale", str(wait_scale),
    ]  # fmt: skip
    if port:
        command += ["--port", str(port)]
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if (state_dir / STATE_FILE).exists():
            return json.loads((state_dir / STATE_FILE).read_text())
        if process.poll() is not None:
            tail = (state_dir / LOG_FILE).read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError("the local stack did not start:\n" + "\n".join(tail))
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"the local stack did not start within {START_TIMEOUT_S:.0f}s")


def running_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / PID_FILE).read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def stop(state_dir: Path, timeout_s: float = 30.0) -> bool:
    """SIGTERM the daemon of the pid file; True if one was running."""
    pid = running_pid(state_dir)
    if pid is None:
        (state_dir / PID_FILE).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and running_pid(state_dir) is not None:
        time.sleep(0.2)
    if running_pid(state_dir) is not None:
        os.kill(pid, signal.SIGKILL)
    (state_dir / PID_FILE).unlink(missing_ok=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True


def serve(state_dir: Path, template: Path, port: int | None, wait_scale: float) -> None:
    """The daemon body: run the stack until SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    settings = LocalSettings(
        template=template,
        work_dir=state_dir / "work",
        events_log=state_dir / "events.jsonl",
        server=True,
        port=port,
        wait_scale=wait_scale,
        job_log=lambda job, line: print(f"[{job}] {line}", flush=True),
    )
    with LocalAws(settings) as aws:
        assert aws.stack is not None
        description = {"endpoint_url": aws.endpoint_url, "region": REGION, **aws.stack.to_json()}
        (state_dir / PID_FILE).write_text(str(os.getpid()))
        temporary = state_dir / (STATE_FILE + ".tmp")
        temporary.write_text(json.dumps(description, indent=2))
        temporary.replace(state_dir / STATE_FILE)
        print(f"local stack up at {aws.endpoint_url}", flush=True)
        stopping.wait()
    print("local stack stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fairmot.local.daemon")
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--wait-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    serve(args.state_dir, args.template, args.port, args.wait_scale)


if __name__ == "__main__":
    main()
