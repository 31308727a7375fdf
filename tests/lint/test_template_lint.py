"""template.yaml passes sam validate --lint, cfn-lint and checkov; every skip is justified."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


def tool(name: str, venv: str) -> str:
    """A linter from its own venv (see the Makefile's `tools` target), else from PATH."""
    local = REPO / venv / "bin" / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed: run `make tools`")
    return found


def run(*cmd: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "BC_SKIP_MAPPING": "TRUE"}
    return subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.mark.slow
def test_sam_validate_lint() -> None:
    result = run(tool("sam", ".venv-tools"), "validate", "--lint", "-t", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_cfn_lint() -> None:
    result = run(str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_checkov_passes() -> None:
    checkov = tool("checkov", ".venv-checkov")
    result = run(
        checkov, "-f", str(TEMPLATE), "--framework", "cloudformation", "--compact", "--quiet",
        "--skip-download",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_checkov_skip_says_why() -> None:
    template, errors = decode(str(TEMPLATE))
    assert not errors
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "expected the documented skips"
    for name, skip in skips:
        assert str(skip.get("id", "")).startswith("CKV_"), name
        assert len(str(skip.get("comment", ""))) > 20, (
            f"{name}: skip {skip.get('id')} needs a reason"
        )


def test_iam_pass_role_only_to_sagemaker() -> None:
    template, _ = decode(str(TEMPLATE))
    passes = 0
    for resource in template["Resources"].values():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement.get("Action", [])
                if "iam:PassRole" in (actions if isinstance(actions, list) else [actions]):
                    passes += 1
                    condition = statement["Condition"]["StringEquals"]["iam:PassedToService"]
                    assert condition == "sagemaker.amazonaws.com"
                    assert statement["Resource"] == {
                        "Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]
                    }
    assert passes == 3  # one per state machine


def test_request_validation_admits_only_what_the_sagemaker_role_reads() -> None:
    """normalise_event refuses S3 URIs outside these prefixes: the role must read each one."""
    sys.path.insert(0, str(REPO / "functions"))
    from models import SAGEMAKER_READABLE_PREFIXES

    template, _ = decode(str(TEMPLATE))
    policy = template["Resources"]["SageMakerExecutionRole"]["Properties"]["Policies"][0]
    [statement] = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "ReadInputs"]
    granted = {r["Fn::Sub"].removeprefix("${DataBucket.Arn}/") for r in statement["Resource"]}
    assert granted == {prefix + "*" for prefix in SAGEMAKER_READABLE_PREFIXES}


def test_every_function_has_its_handler_module() -> None:
    template, _ = decode(str(TEMPLATE))
    functions = {
        name: r["Properties"]["Handler"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) >= 10
    for name, handler in functions.items():
        module, attr = handler.split(".")
        source = (REPO / "functions" / f"{module}.py").read_text()
        assert f"def {attr}(" in source, f"{name}: functions/{module}.py has no {attr}()"


# What each Step Functions integration needs from the state machine's role (the Step Functions
# developer guide, "IAM policies for ... SageMaker"): the API calls it makes, AddTags because
# every request carries Tags, ListTags (on "*", as documented) and the managed EventBridge rule a
# `.sync` job waits through.
INTEGRATION_ACTIONS = {
    "sagemaker:createTrainingJob.sync": (
        {"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
         "sagemaker:StopTrainingJob", "sagemaker:AddTags", "sagemaker:ListTags", "iam:PassRole"},
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
    ),
    "sagemaker:createHyperParameterTuningJob.sync": (
        {"sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
         "sagemaker:StopHyperParameterTuningJob", "sagemaker:AddTags",
         "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sagemaker:ListTags",
         "iam:PassRole"},
        "StepFunctionsGetEventsForSageMakerTuningJobsRule",
    ),
    "sagemaker:createProcessingJob.sync": (
        {"sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
         "sagemaker:StopProcessingJob", "sagemaker:AddTags", "sagemaker:ListTags", "iam:PassRole"},
        "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    ),
    "sagemaker:createModel": (
        {"sagemaker:CreateModel", "sagemaker:AddTags", "sagemaker:ListTags", "iam:PassRole"}, None,
    ),
    "sagemaker:createEndpointConfig": (
        {"sagemaker:CreateEndpointConfig", "sagemaker:AddTags", "sagemaker:ListTags"}, None,
    ),
    "events:putEvents": ({"events:PutEvents"}, None),
    "sqs:sendMessage": ({"sqs:SendMessage"}, None),
}  # fmt: skip
# SAM policy templates the state machines use, by the actions they grant.
POLICY_TEMPLATE_ACTIONS = {
    "EventBridgePutEventsPolicy": {"events:PutEvents"},
    "SQSSendMessagePolicy": {"sqs:SendMessage"},
}


def all_states(definition: dict[str, Any]) -> dict[str, Any]:
    """The states of a definition and of its Maps' ItemProcessors, by name."""
    found = dict(definition["States"])
    for state in definition["States"].values():
        if state["Type"] == "Map":
            found |= all_states(state.get("ItemProcessor") or state["Iterator"])
    return found


def granted(policies: list[Any]) -> tuple[set[str], set[str], set[str]]:
    """(actions, resources as text, Lambda function ids) a state machine's Policies grant."""
    actions: set[str] = set()
    resources: set[str] = set()
    functions: set[str] = set()
    for policy in policies:
        for name, args in policy.items():
            if name == "LambdaInvokePolicy":
                functions.add(args["FunctionName"]["Ref"])
            actions |= POLICY_TEMPLATE_ACTIONS.get(name, set())
        for statement in policy.get("Statement", []):
            listed = statement["Action"]
            actions |= set(listed if isinstance(listed, list) else [listed])
            resources.add(json.dumps(statement["Resource"]))
    return actions, resources, functions


def test_state_machine_roles_grant_what_their_tasks_call() -> None:
    # moto runs every Task whatever the role says: only this check catches a missing grant.
    template, _ = decode(str(TEMPLATE))
    machines = [r for r in template["Resources"].values() if r["Type"].endswith("StateMachine")]
    assert len(machines) == 4
    for machine in machines:
        properties = machine["Properties"]
        definition = json.loads((REPO / properties["DefinitionUri"]).read_text())
        actions, resources, functions = granted(properties["Policies"])
        substitutions = properties["DefinitionSubstitutions"]
        for name, state in all_states(definition).items():
            resource = state.get("Resource", "")
            if resource.endswith(":::lambda:invoke"):
                function = state["Parameters"]["FunctionName"].strip("${}")
                assert substitutions[function]["Fn::GetAtt"][0] in functions, name
                continue
            if not resource:
                continue
            needed, rule = INTEGRATION_ACTIONS[resource.split(":::", 1)[1]]
            assert needed <= actions, f"{properties['DefinitionUri']} {name}: {needed - actions}"
            if rule:
                assert any(f"rule/{rule}" in r for r in resources), f"{name}: no {rule}"


def test_list_tags_is_granted_on_every_resource_as_documented() -> None:
    template, _ = decode(str(TEMPLATE))
    machines = [r for r in template["Resources"].values() if r["Type"].endswith("StateMachine")]
    for machine in machines:
        statements = [
            statement
            for policy in machine["Properties"]["Policies"]
            for statement in policy.get("Statement", [])
        ]
        listing = [s for s in statements if "sagemaker:ListTags" in json.dumps(s["Action"])]
        if "sagemaker:" not in json.dumps(statements):
            continue  # a machine that calls no SageMaker integration (the idle sweep)
        assert [s["Resource"] for s in listing] == ["*"], machine["Properties"]["DefinitionUri"]


def test_alarm_topic_uses_a_key_cloudwatch_may_use() -> None:
    template, _ = decode(str(TEMPLATE))
    resources = template["Resources"]
    key_ref = resources["AlertTopic"]["Properties"]["KmsMasterKeyId"]
    assert key_ref == {"Fn::GetAtt": ["AlertTopicKey", "Arn"]}  # not alias/aws/sns
    key = resources["AlertTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
    ]  # fmt: skip
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    for alarm in ("TrainingFailedAlarm", "DeployFailedAlarm", "BatchFailedAlarm"):
        actions = resources[alarm]["Properties"]["AlarmActions"]
        assert actions["Fn::If"][1] == [{"Ref": "AlertTopic"}]
