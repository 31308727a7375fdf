"""template.yaml deploys into moto: every resource local mode needs exists and is wired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.local.deployer import NO_LOCAL_EFFECT
from fairmot.local.stack import LocalAws
from fairmot.operator import consumer_events, result_queue_url, wait_for_workflow

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_template_deploys_wired_state_machines_rules_and_functions(pipeline: LocalAws) -> None:
    stack = pipeline.stack
    assert stack is not None
    assert set(stack.state_machines) == {
        "TrainingStateMachine", "DeployStateMachine", "BatchStateMachine",
        "IdleCleanupStateMachine",
    }  # fmt: skip
    sfn = pipeline.client("stepfunctions")
    for arn in stack.state_machines.values():
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        assert "${" not in definition, f"unresolved substitution in {arn}"
        json.loads(definition)
    events = pipeline.client("events")
    lambdas = {f["FunctionArn"] for f in pipeline.client("lambda").list_functions()["Functions"]}
    known = set(stack.state_machines.values()) | lambdas
    targets = 0
    for bus in ("default", stack.bus):
        for rule in events.list_rules(EventBusName=bus)["Rules"]:
            for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)[
                "Targets"
            ]:
                targets += 1
                if ":states:" in target["Arn"] or ":lambda:" in target["Arn"]:
                    assert target["Arn"] in known
    assert targets >= 3
    # Only types that change nothing offline may be left out; anything else fails the deploy.
    assert set(stack.skipped.values()) <= NO_LOCAL_EFFECT


def test_a_training_request_on_the_bus_reaches_the_training_workflow(pipeline: LocalAws) -> None:
    """The training workflow's rules are SAM `Events:` of its state machine: local mode wires
    them like any rule (here: a request for a dataset that is not there fails, and says so)."""
    stack = pipeline.stack
    assert stack is not None
    sample = json.loads((REPO / "events" / "samples" / "training-requested.json").read_text())
    detail = {**sample["detail"], "datasetUri": f"s3://{stack.bucket}/datasets/absent/"}
    pipeline.client("events").put_events(
        Entries=[{"Source": sample["source"], "DetailType": sample["detail-type"],
                  "Detail": json.dumps(detail), "EventBusName": stack.bus}]
    )  # fmt: skip
    run = wait_for_workflow(pipeline, stack.state_machine("training"), known=0, timeout_s=120)
    assert run.status == "FAILED"
    (event,) = consumer_events(pipeline, result_queue_url(pipeline.stack.outputs))
    assert event["detail-type"] == "Training Failed"
    assert event["detail"]["error"] == "InvalidEventError"
    assert "datasets/absent/manifest.json does not exist" in event["detail"]["reason"]
