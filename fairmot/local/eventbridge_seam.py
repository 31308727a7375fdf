"""SEAM: EventBridge rules -> Step Functions (and Lambda) targets; published events observed.

moto 5.2.5 delivers rule matches only to logs, archives, SQS, buses and API destinations; a
state-machine target raises NotImplementedError (swallowed on the S3 -> EventBridge path, so
executions silently go missing). This module wraps `moto.events.models.Rule.send_to_targets`:
Step Functions targets start an execution with the event (Input / InputPath / InputTransformer
honoured, as EventBridge does), Lambda targets invoke the handler asynchronously, and every other
target still goes through moto. S3 notification events are made to look as AWS sends them
(`etag`, default bus only, an id of their own); schedule rules match no events. It also wraps `EventsBackend.put_events` so each event put on a
custom bus is printed and appended to a JSON-lines log, as it happens.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from fairmot.aws.request_check import check
from fairmot.local.seam import Patches

EventObserver = Callable[[dict[str, Any]], None]


def _iso_time(value: Any) -> Any:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _event_for_target(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target (no moto bookkeeping, ISO time).

    moto writes S3's object ETag as `eTag`; AWS's S3 events on EventBridge spell it `etag`.
    """
    delivered = {k: v for k, v in copy.deepcopy(event).items() if k != "ingestion-time"}
    if "time" in delivered:
        delivered["time"] = _iso_time(delivered["time"])
    detail = delivered.get("detail")
    if delivered.get("source") == "aws.s3" and isinstance(detail, dict):
        obj = detail.get("object")
        if isinstance(obj, dict) and "eTag" in obj:
            obj["etag"] = obj.pop("eTag")
    return delivered


def _give_unique_id(event: dict[str, Any]) -> None:
    """moto copies one fixed `id` into every S3 event; AWS gives each its own, and the workflows
    take their correlation id from it. Set once in place: every rule then sees the same id."""
    from moto.events.utils import _BASE_EVENT_MESSAGE

    if event.get("id") == _BASE_EVENT_MESSAGE["id"]:
        event["id"] = str(uuid.uuid4())


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge passes to a target: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        found = [m.value for m in parse(target["InputPath"]).find(event)]
        return found[0] if found else None
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, event),
        )
    return event


def _start_execution(arn: str, payload: Any) -> None:
    from moto.stepfunctions.responses import get_backend

    parts = arn.split(":")
    account, region = parts[4], parts[3]
    backend = get_backend(account, region)
    # EventBridge names executions with a random id; idempotence is the workflow's own job.
    request = {"stateMachineArn": arn, "name": str(uuid.uuid4()), "input": json.dumps(payload)}
    # The backend is called directly (no boto3 client), so the request is checked here.
    check("stepfunctions", "StartExecution", request)
    backend.start_execution(arn, name=request["name"], execution_input=request["input"])


def _invoke_lambda(arn: str, payload: Any) -> None:
    from fairmot.local.lambda_seam import invoke_function

    threading.Thread(target=invoke_function, args=(arn, payload), daemon=True).start()


_LOCAL_TARGETS: dict[str, Callable[[str, Any], None]] = {
    "states": _start_execution,
    "lambda": _invoke_lambda,
}


def deliver(rule_name: str, target: dict[str, Any], event: dict[str, Any]) -> None:
    """Hand the event to a Step Functions or Lambda target; a failure is printed, then raised.

    moto's S3 notification path swallows every exception a rule raises: without the message a
    failed start (an unknown state machine, a bad input) would only show as a missing execution.
    """
    arn = target["Arn"]
    try:
        _LOCAL_TARGETS[arn.split(":")[2]](arn, target_input(target, event))
    except Exception as error:
        print(
            f"[eventbridge] rule {rule_name} could not deliver to {arn}: "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
            flush=True,
        )
        raise


class PublishedEvents:
    """Prints each event put on a custom bus and appends it to a JSON-lines file."""

    def __init__(self, log_path: Path | None = None, *, echo: bool = True) -> None:
        self.log_path = log_path
        self.echo = echo
        self.events: list[dict[str, Any]] = []
        self.observers: list[EventObserver] = []
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        detail_text = entry.get("Detail") or "{}"
        try:
            detail = json.loads(detail_text)
        except ValueError:
            detail = detail_text
        event = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "bus": entry.get("EventBusName"),
            "source": entry.get("Source"),
            "detail-type": entry.get("DetailType"),
            "detail": detail,
        }
        with self._lock:
            self.events.append(event)
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with self.log_path.open("a") as log:
                    log.write(json.dumps(event, default=str) + "\n")
        if self.echo:
            print(
                f"[event] {event['detail-type']} ({event['source']}) on {event['bus']}", flush=True
            )
        for observer in list(self.observers):
            observer(event)


def install(patches: Patches, published: PublishedEvents) -> None:
    """Wrap Rule.send_to_targets and EventsBackend.put_events (see the module docstring)."""
    from moto.events.models import EventsBackend, Rule

    original_send = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        # moto matches a rule without a pattern to every event, so a schedule rule fired its
        # target once per event on the bus (the batch scheduler ran ~60 times a second in a
        # burst); on AWS a schedule rule only fires on its schedule (schedule_seam's ticker).
        if self.scheduled_expression and not self.event_pattern.dump():
            return
        if not self.event_pattern.matches_event(original_event):
            return
        # moto offers S3 notifications to the rules of every bus; AWS only to the default one.
        from_s3 = original_event.get("source") == "aws.s3" and not transform_input
        if from_s3:
            _give_unique_id(original_event)
        if from_s3 and self.event_bus_name.rsplit("/", 1)[-1] != "default":
            return
        local = [t for t in self.targets if t["Arn"].split(":")[2] in _LOCAL_TARGETS]
        others = [t for t in self.targets if t not in local]
        if others:
            kept = self.targets
            self.targets = others
            try:
                original_send(self, original_event, transform_input)
            finally:
                self.targets = kept
        event = _event_for_target(original_event)
        for target in local:
            deliver(self.name, target, event)

    original_put = EventsBackend.put_events

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries = original_put(self, events)
        for event, entry in zip(events, entries, strict=False):
            bus = event.get("EventBusName") or "default"
            if "EventId" in entry and bus.rsplit("/", 1)[-1] != "default":
                published.record(event)
        return cast(list[dict[str, Any]], entries)

    patches.patch_attribute(Rule, "send_to_targets", send_to_targets)
    patches.patch_attribute(EventsBackend, "put_events", put_events)
