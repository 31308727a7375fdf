"""What an operator asks of a running local stack (`fairmot local up`): where it is, what runs.

A client of local mode, not part of it (fairmot.local emulates AWS; this only reads it).

`RunningStack` reads the daemon's STATE_DIR/stack.json and talks to it over HTTP with boto3, as
any other client would; `view` gives the console's reader over it, which the verbs of
`fairmot.operator` (status, logs, invoke, upload, the same for a deployed stack) take; `job_log`
finds a local job's log file. Nothing here patches moto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairmot.local.daemon import STATE_FILE, running_pid
from fairmot.local.stack import FAKE_CREDENTIALS

if TYPE_CHECKING:
    from fairmot.console.source import ConsoleSource


class StackNotRunning(RuntimeError):
    """No local stack answers at this state dir."""


@dataclass(frozen=True)
class RunningStack:
    """The stack started by `fairmot local up` in `state_dir` (see fairmot.local.daemon)."""

    state_dir: Path
    description: dict[str, Any]

    @classmethod
    def open(cls, state_dir: Path) -> RunningStack:
        state_dir = state_dir.resolve()
        if running_pid(state_dir) is None or not (state_dir / STATE_FILE).is_file():
            raise StackNotRunning(
                f"no local stack is running in {state_dir}: start one with `fairmot local up`"
            )
        return cls(state_dir, json.loads((state_dir / STATE_FILE).read_text()))

    @property
    def endpoint_url(self) -> str:
        return str(self.description["endpoint_url"])

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    @property
    def events_log(self) -> Path:
        return self.state_dir / "events.jsonl"

    def environment(self) -> dict[str, str]:
        """What a shell needs for boto3 and the AWS CLI to reach this stack."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **FAKE_CREDENTIALS}

    def client(self, service: str) -> Any:
        import boto3

        session: Any = boto3.Session(
            region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        return session.client(service, endpoint_url=self.endpoint_url)

    def results_queue_url(self) -> str | None:
        from fairmot.operator import WorkflowError, result_queue_url

        try:
            return result_queue_url(self.description.get("outputs") or {})
        except WorkflowError:
            return None

    def function_name(self, name: str) -> str:
        """A function's physical name from its logical id (or its physical name as given)."""
        functions: dict[str, str] = self.description.get("functions") or {}
        if name in functions:
            return functions[name]
        if name in functions.values():
            return name
        raise KeyError(f"no function {name!r} in the stack; choose from {', '.join(functions)}")


def view(stack: RunningStack) -> ConsoleSource:
    """The console's reader over this stack: executions, jobs, events, videos."""
    from fairmot.console.source import ConsoleSource

    buckets = list((stack.description.get("buckets") or {}).values())
    return ConsoleSource(
        client=stack.client,
        state_machines=dict(stack.description.get("state_machines") or {}),
        bucket=buckets[0] if len(buckets) == 1 else None,
        queue_url=stack.results_queue_url(),
        admission_url=(stack.description.get("outputs") or {}).get("AdmissionQueueUrl"),
        work_dir=stack.work_dir,
        events_log=stack.events_log,
    )


def job_log(stack: RunningStack, name: str) -> Path | None:
    """A job's log (training, processing, or an endpoint's model server)."""
    for kind in ("training", "processing"):
        log = stack.work_dir / kind / name / "log.txt"
        if log.is_file():
            return log
    served = sorted((stack.work_dir / "endpoints").glob(f"{name}-*/serve.log"))
    return served[-1] if served else None
