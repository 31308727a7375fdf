"""`fairmot local up/down`: the stack as a background loopback server other processes can use."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fairmot.local.daemon import running_pid, start, stop
from tests.workflow.conftest import MINI

pytestmark = pytest.mark.slow


def test_up_serves_the_stack_over_http_and_down_stops_it(tmp_path: Path) -> None:
    import boto3

    state = tmp_path / "state"
    stack = start(state, MINI / "template.yaml", None, 0.01)
    try:
        url = stack["endpoint_url"]
        assert url.startswith("http://127.0.0.1:")
        assert running_pid(state) is not None

        def client(service: str) -> object:
            return boto3.client(
                service, endpoint_url=url, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip

        bucket = next(iter(stack["buckets"].values()))
        machine = next(iter(stack["state_machines"].values()))
        client("s3").put_object(Bucket=bucket, Key="in/a.txt", Body=b"over http")  # type: ignore[attr-defined]
        sfn = client("stepfunctions")
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            executions = sfn.list_executions(stateMachineArn=machine)["executions"]  # type: ignore[attr-defined]
            status = executions[0]["status"] if executions else None
            if status not in (None, "RUNNING"):
                break
            time.sleep(0.5)
        assert status == "SUCCEEDED"
        copied = client("s3").get_object(Bucket=bucket, Key="out/in/a.txt/a.txt")  # type: ignore[attr-defined]
        assert copied["Body"].read() == b"over http"
        assert (state / "events.jsonl").read_text().count('"Done"') == 1
    finally:
        assert stop(state)
    assert running_pid(state) is None
    assert not stop(state)
