"""Local mode's template reading: intrinsics resolve as CloudFormation resolves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairmot.local.template import Resolver, TemplateError, load_template

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Email: {Type: String, Default: ""}
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-${Stage}-${AWS::AccountId}"
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          ARN: !GetAtt Bucket.Arn
          OBJECTS: !Sub "${Bucket.Arn}/*"
          PAIR: !Sub ["${a}:${AWS::Region}", {a: !Ref Bucket}]
          JOINED: !Join ["-", [!Ref Stage, x]]
          ALERT: !If [HasEmail, alerts, quiet]
          LITERAL: !Sub "${!NotAVariable}"
          PARTITION: !Sub "arn:${AWS::Partition}:s3"
"""


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    template = load_template(path)
    resolver = Resolver(template, "stack")
    resolver.refs["Bucket"] = "stack-dev-123456789012"
    resolver.attributes[("Bucket", "Arn")] = "arn:aws:s3:::stack-dev-123456789012"
    return resolver


def test_sub_resolves_pseudo_parameters_and_parameters(resolver: Resolver) -> None:
    name = resolver.resolve(resolver.template["Resources"]["Bucket"]["Properties"]["BucketName"])
    assert name == "stack-dev-123456789012"


def test_every_intrinsic_in_a_function_environment(resolver: Resolver) -> None:
    variables = resolver.resolve(
        resolver.template["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    )
    assert variables == {
        "ARN": "arn:aws:s3:::stack-dev-123456789012",
        "OBJECTS": "arn:aws:s3:::stack-dev-123456789012/*",
        "PAIR": "stack-dev-123456789012:us-east-1",
        "JOINED": "dev-x",
        "ALERT": "quiet",
        "LITERAL": "${NotAVariable}",
        "PARTITION": "arn:aws:s3",
    }


def test_unknown_reference_is_an_error_naming_it(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="Missing"):
        resolver.resolve({"Ref": "Missing"})


def test_parameter_without_default_must_be_given(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Parameters:\n  Image: {Type: String}\nResources: {}\n")
    with pytest.raises(TemplateError, match="Image"):
        Resolver(load_template(path), "stack")
    assert Resolver(load_template(path), "stack", {"Image": "x"}).ref("Image") == "x"
