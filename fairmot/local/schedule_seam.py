"""SEAM: EventBridge schedule rules (`rate(N minutes)`) fire their Lambda targets locally.

moto 5.2.5 stores a rule's ScheduleExpression but never fires it. A ticker thread does, with the
Wait states' time scale (a `rate(1 minute)` rule fires every 0.6 s at scale 0.01), invoking each
Lambda target with a Scheduled Event as EventBridge sends it. Ticks run one at a time: the
functions such rules drive (the batch scheduler) have ReservedConcurrentExecutions 1 on AWS.
Template parameters named `*WindowSeconds` (the batch window) are waits too, and their
defaults are scaled the same way.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fairmot.local.deployer import ACCOUNT_ID, REGION
from fairmot.local.sam import load_template

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# The in-process Lambdas take turns (one lock): a scheduler firing every 0.6 s would hold it
# most of the time on a loaded machine and starve the workflows' own steps.
MIN_PERIOD_S = 2.0


def rate_seconds(expression: str) -> float | None:
    """Seconds between firings of `rate(...)`; None for cron() (not emulated)."""
    match = _RATE.match(expression)
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT_ID, "region": REGION,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [rule_arn],
        "detail": {},
    }  # fmt: skip


def scaled_windows(template: Path, given: dict[str, str], scale: float) -> dict[str, str]:
    """`given`, plus each `*WindowSeconds` parameter's default scaled (at least 1 s)."""
    scaled = dict(given)
    for name, spec in load_template(template).get("Parameters", {}).items():
        if name.endswith("WindowSeconds") and name not in given and "Default" in spec:
            scaled[name] = str(max(1, round(float(spec["Default"]) * scale)))
    return scaled


class ScheduleTicker:
    """Fires the schedule rules of the default bus until stopped."""

    def __init__(self, events_client: Callable[[], Any], scale: float) -> None:
        self.events_client = events_client
        self.scale = scale
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _rules(self, events: Any) -> list[tuple[dict[str, Any], float]]:
        found = []
        for rule in events.list_rules()["Rules"]:
            period = rate_seconds(rule.get("ScheduleExpression") or "")
            if period is not None and rule.get("State") == "ENABLED":
                found.append((rule, max(MIN_PERIOD_S, period * self.scale)))
        return found

    def _run(self) -> None:
        from fairmot.local.lambda_seam import invoke_function

        events = self.events_client()  # once: the Lambdas change os.environ, clients read it
        rules = self._rules(events)
        due = {rule["Name"]: time.monotonic() + period for rule, period in rules}
        step = min([period for _, period in rules], default=1.0) / 4
        while not self._stop.wait(step):
            for rule, period in rules:
                if time.monotonic() < due[rule["Name"]]:
                    continue
                targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                for target in targets:
                    if target["Arn"].split(":")[2] == "lambda" and not self._stop.is_set():
                        invoke_function(target["Arn"], scheduled_event(rule["Arn"]))
                due[rule["Name"]] = time.monotonic() + period
