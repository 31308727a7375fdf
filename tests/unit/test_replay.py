"""`fairmot replay` on moto's SQS: every dead-lettered message back in admission, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fairmot.cli import main
from fairmot.commands.replay import replay


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs")
        dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
        admission = sqs.create_queue(QueueName="admission")["QueueUrl"]
        yield sqs, dead, admission


def bodies(sqs: Any, url: str) -> list[str]:
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        found += [m["Body"] for m in messages]
    return found


def test_every_message_moves_once_and_leaves_the_dead_letter_queue(
    queues: tuple[Any, str, str],
) -> None:
    sqs, dead, admission = queues
    sent = [json.dumps({"detail": {"videoUri": f"s3://b/videos/{n}.mp4"}}) for n in range(23)]
    for body in sent:
        sqs.send_message(QueueUrl=dead, MessageBody=body)
    assert replay(sqs, dead, admission, limit=5) == 5
    assert replay(sqs, dead, admission) == 18
    assert sorted(bodies(sqs, admission)) == sorted(sent)
    assert bodies(sqs, dead) == []


def test_the_command_names_its_queues_and_refuses_half_a_pair(
    queues: tuple[Any, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, dead, admission = queues
    sqs.send_message(QueueUrl=dead, MessageBody="{}")
    assert main(["replay", "--from-url", dead, "--to-url", admission]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out
    assert main(["replay", "--from-url", dead]) == 2
    assert "--to-url" in capsys.readouterr().err
    assert main(["replay", "--from-url", dead, "--to-url", dead + "-gone"]) == 0  # nothing left
    sqs.send_message(QueueUrl=dead, MessageBody="{}")
    assert main(["replay", "--from-url", dead, "--to-url", dead + "-gone"]) == 1
    assert capsys.readouterr().err.startswith("fairmot replay: ")
