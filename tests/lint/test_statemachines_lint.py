"""The ASL files: statelint, substitutions that match the template, and a walk of every state
(Retry and Catch on every Task, targets exist, every failure path publishes a failure event)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
MACHINES = sorted((REPO / "statemachines").glob("*.asl.json"))
# The workflows that run jobs for a request; idle.asl.json is a scheduled sweep with no request,
# no job and no duplicate to detect (its tasks still have Retry and trimmed results).
JOB_MACHINES = [p for p in MACHINES if p.name != "idle.asl.json"]
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_:]+)\}")
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# Native integrations the state machines may use (JSONPath, moto-friendly, real-AWS-correct).
ALLOWED_RESOURCES = {
    "arn:${Partition}:states:::lambda:invoke",
    "arn:${Partition}:states:::events:putEvents",
    "arn:${Partition}:states:::sagemaker:createTrainingJob.sync",
    "arn:${Partition}:states:::sagemaker:createHyperParameterTuningJob.sync",
    "arn:${Partition}:states:::sagemaker:createProcessingJob.sync",
    "arn:${Partition}:states:::sagemaker:createModel",
    "arn:${Partition}:states:::sagemaker:createEndpointConfig",
}
FAILURE_TYPES = {
    "training": "Training Failed",
    "deploy": "Deployment Failed",
    "batch": "Video Processing Failed",
}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def state_machines() -> dict[str, dict[str, Any]]:
    """Template resources of type AWS::Serverless::StateMachine, keyed by DefinitionUri."""
    template, _ = decode(str(REPO / "template.yaml"))
    return {
        r["Properties"]["DefinitionUri"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::StateMachine"
    }


def targets(state: dict[str, Any]) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Choices", [])]
    out += [c["Next"] for c in state.get("Catch", [])]
    return out


def is_failure_publisher(state: dict[str, Any], workflow: str) -> bool:
    if not state.get("Resource", "").endswith("events:putEvents"):
        return False
    entries = state["Parameters"]["Entries"]
    return all(e.get("DetailType") == FAILURE_TYPES[workflow] for e in entries)


def test_three_workflows_in_files_and_template() -> None:
    assert [p.name for p in MACHINES] == [
        "batch.asl.json", "deploy.asl.json", "idle.asl.json", "training.asl.json",
    ]  # fmt: skip
    assert set(state_machines()) == {f"statemachines/{p.name}" for p in MACHINES}


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_statelint_accepts_the_definition(path: Path, tmp_path: Path) -> None:
    # statelint wants real ARNs where the template substitutes them: put sample values in.
    text = PLACEHOLDER.sub(
        lambda m: "aws" if m.group(1) == "Partition"
        else f"arn:aws:lambda:us-east-1:123456789012:function:{m.group(1)}"
        if m.group(1).endswith("Arn") else m.group(1),
        path.read_text(),
    )  # fmt: skip
    concrete = tmp_path / path.name
    concrete.write_text(text)
    statelint = Path(sys.executable).parent / "statelint"
    result = subprocess.run(
        [str(statelint), str(concrete)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_placeholders_are_exactly_the_substitutions(path: Path) -> None:
    props = state_machines()[f"statemachines/{path.name}"]
    used = set(PLACEHOLDER.findall(path.read_text()))
    assert used == set(props["DefinitionSubstitutions"])
    assert props["DefinitionSubstitutions"]["Partition"] == {"Ref": "AWS::Partition"}
    assert props["Tracing"] == {"Enabled": True}
    assert props["Logging"]["Destinations"]


@pytest.mark.parametrize("path", JOB_MACHINES, ids=lambda p: p.stem)
def test_walk_every_state(path: Path) -> None:
    definition = load(path)
    workflow = path.name.split(".")[0]
    assert "QueryLanguage" not in definition  # JSONPath: moto's interpreter fails on JSONata
    states = definition["States"]
    assert definition["StartAt"] in states
    publishers = [n for n, s in states.items() if is_failure_publisher(s, workflow)]
    assert publishers == ["PublishFailure"]
    for name, state in states.items():
        for target in targets(state):
            assert target in states, f"{name} -> {target} does not exist"
        if state["Type"] == "Fail":
            # Only the failure publisher (after publishing, or when publishing itself failed)
            # may reach a Fail state.
            feeders = [n for n, s in states.items() if name in targets(s)]
            # batch: also after each video's failure was published (PublishJobFailures, a Map)
            # or when every video of the batch was refused, each with its event.
            allowed = ["PublishFailure"] + (
                ["AnythingToProcess", "PublishJobFailures"] if workflow == "batch" else []
            )
            assert set(feeders) <= set(allowed) and feeders, f"{name} is reached from {feeders}"
        if state["Type"] != "Task":
            continue
        assert state["Resource"] in ALLOWED_RESOURCES, name
        assert state.get("Retry"), f"{name} has no Retry"
        assert state.get("Catch"), f"{name} has no Catch"
        assert state.get("ResultSelector"), f"{name} does not trim its result"
        catch_all = [c for c in state["Catch"] if "States.ALL" in c["ErrorEquals"]]
        assert catch_all, f"{name} does not catch every error"
        if name == "ExplainFailure":
            assert [c["Next"] for c in state["Catch"]] == ["FailureUnexplained"]
        elif name == "Process" and workflow == "batch":
            # A refused create goes to the quota backoff first (it tells capacity from error).
            assert [c["Next"] for c in state["Catch"]] == ["QuotaBackoff", "ExplainFailure"]
        elif name != "PublishFailure":
            # Every failure is explained (name + one-line reason, or a lost create race) first.
            assert all(c["Next"] == "ExplainFailure" for c in state["Catch"]), name
            assert all(c["ResultPath"] == "$.error" for c in state["Catch"]), name
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        if state["Resource"].endswith("lambda:invoke"):
            assert retried >= LAMBDA_ERRORS, name
            assert "meta.$" in state["Parameters"]["Payload"], f"{name} loses the correlation id"
        if ":sagemaker:" in state["Resource"]:
            # Only what can succeed later: an invalid request (AmazonSageMakerException wraps
            # every ValidationException) fails at once.
            assert "SageMaker.AmazonSageMakerException" not in retried, name
            assert {
                "SageMaker.ThrottlingException",
                "SageMaker.ResourceLimitExceededException",
            } <= retried, name


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_jobs_that_did_not_complete_fail_the_workflow(path: Path) -> None:
    states = load(path)["States"]
    for name, state in states.items():
        if not state.get("Resource", "").endswith(".sync"):
            continue
        check = states[state["Next"]]
        assert check["Type"] == "Choice", f"{name} is not followed by a status check"
        assert check["Choices"][0]["StringEquals"] == "Completed"
        assert check["Choices"][0]["Variable"] == f"{state['ResultPath']}.status"
        otherwise = states[check["Default"]]
        assert (otherwise["ResultPath"], otherwise["Next"]) == ("$.error", "ExplainFailure")


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_every_state_is_reachable(path: Path) -> None:
    states = load(path)["States"]
    seen, todo = set(), [load(path)["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += targets(states[name])
    assert seen == set(states)


@pytest.mark.parametrize("path", JOB_MACHINES, ids=lambda p: p.stem)
def test_duplicates_end_in_success_without_a_job(path: Path) -> None:
    states = load(path)["States"]
    choices = [s for n, s in states.items() if n.startswith("IsDuplicate")]
    assert len(choices) == 1
    rule = choices[0]["Choices"][0]
    assert rule["Variable"] == "$.plan.duplicate" and rule["BooleanEquals"] is True
    assert states[rule["Next"]]["Type"] == "Succeed"


@pytest.mark.parametrize("path", JOB_MACHINES, ids=lambda p: p.stem)
def test_failure_events_carry_a_name_and_a_one_line_reason(path: Path) -> None:
    states = load(path)["States"]
    detail = states["PublishFailure"]["Parameters"]["Entries"][0]["Detail"]
    assert (detail["error.$"], detail["reason.$"]) == ("$.failure.error", "$.failure.reason")
    assert "cause.$" not in detail
    race = states[states["ExplainFailure"]["Next"]]["Choices"][0]
    assert race["Variable"] == "$.failure.duplicate" and states[race["Next"]]["Type"] == "Succeed"
