"""template.yaml deploys into moto: every resource local mode needs exists and is wired."""

from __future__ import annotations

import json

import pytest

from fairmot.local.deployer import NO_LOCAL_EFFECT
from fairmot.local.stack import LocalAws

pytestmark = pytest.mark.slow


def test_template_deploys_wired_state_machines_rules_and_functions(pipeline: LocalAws) -> None:
    stack = pipeline.stack
    assert stack is not None
    assert len(stack.state_machines) == 3
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
