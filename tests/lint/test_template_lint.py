"""template.yaml passes sam validate --lint, cfn-lint and checkov; every skip is justified."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
