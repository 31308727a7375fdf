"""`fairmot local up|env|status|logs|invoke|upload|down` as an operator types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow.conftest import MINI, REPO

pytestmark = pytest.mark.slow


def _fairmot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "fairmot", *args], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_operator_verbs_against_a_running_stack(tmp_path: Path) -> None:
    template = str(MINI / "template.yaml")
    up = _fairmot("local", "up", "--template", template, "--wait-scale", "0.01", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "bucket       : mini-data-123456789012" in up.stdout
        assert "event bus    : fairmot-bus" in up.stdout
        assert "results queue: http" in up.stdout  # the template's ...QueueUrl output

        env = _fairmot("local", "env", cwd=tmp_path)
        assert env.returncode == 0
        assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in env.stdout

        (tmp_path / "a.txt").write_text("hello")
        sent = _fairmot(
            "local", "upload", "a.txt", "s3://mini-data-123456789012/in/a.txt", cwd=tmp_path
        )
        assert sent.returncode == 0, sent.stderr
        status = _fairmot("local", "status", "--wait", "120", cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "SUCCEEDED" in status.stdout and "Done" in status.stdout  # its last state
        assert "processing Completed   copy-in-a-txt" in status.stdout

        job_log = _fairmot("local", "logs", "copy-in-a-txt", cwd=tmp_path)
        assert job_log.returncode == 0 and "epoch=1 loss=0.5" in job_log.stdout
        execution = status.stdout.split("executions:\n")[1].split()[4]
        history = _fairmot("local", "logs", execution, cwd=tmp_path)
        assert history.returncode == 0
        assert "TaskStateEntered" in history.stdout and "Plan" in history.stdout
        missing = _fairmot("local", "logs", "no-such-thing", cwd=tmp_path)
        assert missing.returncode == 1 and "no job, endpoint or execution" in missing.stderr

        event = tmp_path / "event.json"
        event.write_text(json.dumps({"detail": {"object": {"key": "in/b.txt"}}}))
        invoked = _fairmot("local", "invoke", "PlanFunction", "--event", str(event), cwd=tmp_path)
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(invoked.stdout)["ProcessingJobName"] == "copy-in-b-txt"
        event.write_text(json.dumps({"detail": {"object": {"key": "in/bad.txt"}}}))
        refused = _fairmot("local", "invoke", "PlanFunction", "--event", str(event), cwd=tmp_path)
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["errorType"] == "InvalidInput"
        unknown = _fairmot("local", "invoke", "Nope", "--event", str(event), cwd=tmp_path)
        assert unknown.returncode == 2 and "PlanFunction" in unknown.stderr
    finally:
        down = _fairmot("local", "down", cwd=tmp_path)
    assert "local stack stopped" in down.stdout
    after = _fairmot("local", "status", cwd=tmp_path)
    assert after.returncode == 1 and "fairmot local up" in after.stderr
