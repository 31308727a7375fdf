"""Local deployment goes through the SAM translator: layers work, unknown types fail by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.local.sam import TemplateError
from fairmot.local.stack import LocalAws, LocalSettings

HEADER = "Transform: AWS::Serverless-2016-10-31\nResources:\n"
LAYERED = (
    HEADER
    + """\
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.12
      Layers: [!Ref Shared]
      Environment: {Variables: {WHO: !Ref Shared}}
"""
)


def _stack(template: Path) -> LocalAws:
    return LocalAws(LocalSettings(template=template, work_dir=template.parent / "work",
                                  echo_events=False))  # fmt: skip


def test_a_function_imports_its_layer_as_in_lambda(tmp_path: Path) -> None:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared_words.py").write_text("WORD = 'hello'\n")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(
        "import os, shared_words\n"
        "def handler(event, context):\n"
        "    return {'word': shared_words.WORD, 'layer': os.environ['WHO']}\n"
    )
    (tmp_path / "template.yaml").write_text(LAYERED)
    with _stack(tmp_path / "template.yaml") as aws:
        answer = aws.client("lambda").invoke(FunctionName="fairmot-Greeter", Payload=b"{}")
        payload = json.loads(answer["Payload"].read())
    assert payload["word"] == "hello"
    assert payload["layer"].startswith("arn:aws:lambda:us-east-1:123456789012:layer:")


def test_a_resource_type_local_mode_cannot_provide_fails_by_name(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        HEADER
        + "  Api:\n    Type: AWS::AppSync::GraphQLApi\n    Properties: {Name: a, AuthenticationType: API_KEY}\n"
    )
    with pytest.raises(
        TemplateError, match=r"Api: local mode cannot provide AWS::AppSync::GraphQLApi"
    ):
        _stack(tmp_path / "template.yaml").__enter__()
