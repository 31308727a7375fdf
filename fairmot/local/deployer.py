"""Deploy template.yaml into moto's own CloudFormation: the SAM translator's output, one stack.

`sam.translate` turns the template into plain CloudFormation (SAM's Globals, Events, policy
templates and generated roles included, as on AWS); moto's `create_stack` creates the resources
and resolves the intrinsics. What moto's CloudFormation does not do is done here, loudly:
- a type moto has no model for it skips with a warning: here it fails the deployment by name,
  unless it changes nothing offline (NO_LOCAL_EFFECT), then it is left out before create_stack;
- moto ignores a state machine's DefinitionSubstitutions: they are applied to the translator's
  DefinitionString as CloudFormation applies them (a Fn::Join of text and values);
- moto ignores a bucket's versioning and notifications: they are put after create_stack;
- moto resolves `!Ref` of a layer version or an event bus to the object itself (the physical id
  it reads is missing from those models), and creates state machines in the backend that its
  Step Functions interpreter does not read: `install` corrects both (SEAM, undone as the others);
- Lambda code comes from local folders: moto gets a placeholder zip at each artifact key, and
  the Lambda seam runs the handler from the folder.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmot.local import lambda_seam
from fairmot.local.sam import LOCAL_CODE_BUCKET, TemplateError, local_artifact, translate
from fairmot.local.seam import Patches

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
# Types moto's CloudFormation has no model for that change nothing local mode does: access
# policies (moto does not enforce IAM), alarms and their e-mail subscriptions (nothing offline
# watches or mails).
NO_LOCAL_EFFECT = {
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::CloudWatch::Alarm",
    # No clock fires schedules offline: tests start the scheduled workflow themselves.
    "AWS::Scheduler::Schedule",
}
# Stack resource type -> the DeployedStack field that lists its physical ids.
_KINDS = {
    "AWS::S3::Bucket": "buckets",
    "AWS::Events::EventBus": "buses",
    "AWS::SQS::Queue": "queues",
    "AWS::Lambda::Function": "functions",
    "AWS::StepFunctions::StateMachine": "state_machines",
}
# Physical names as `STACK-Logical`, without CloudFormation's random suffix, as local mode has
# always named them: README's `s3://fairmot-databucket/...` and an operator can name them.
_NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass
class DeployedStack:
    """What was created: logical id -> physical id per kind, and the resolved Outputs."""

    name: str
    buckets: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    functions: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> type

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def state_machine(self, hint: str) -> str:
        """The ARN of the one state machine whose logical id contains `hint` (case-insensitive)."""
        found = [
            arn for logical, arn in self.state_machines.items() if hint.lower() in logical.lower()
        ]
        if len(found) != 1:
            raise KeyError(
                f"{len(found)} state machines match {hint!r}: {list(self.state_machines)}"
            )
        return found[0]

    @property
    def bucket(self) -> str:
        if len(self.buckets) != 1:
            raise KeyError(f"expected one bucket, found {list(self.buckets.values())}")
        return next(iter(self.buckets.values()))

    @property
    def bus(self) -> str:
        if len(self.buses) != 1:
            raise KeyError(f"expected one event bus, found {list(self.buses.values())}")
        return next(iter(self.buses.values()))


def local_parameter_value(name: str) -> str:
    """A value for a parameter with no Default: nothing reads it offline but it must resolve."""
    if name.endswith("ImageUri"):
        # Container images do not exist offline: jobs run the entry points as processes.
        return f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-fairmot:local"
    return "local"


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# local mode runs the handler from its CodeUri\n")
    return buffer.getvalue()


def _substitute(node: Any, values: dict[str, Any]) -> Any:
    """DefinitionSubstitutions applied to a DefinitionString (text, or the translator's Join)."""
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, items = node["Fn::Join"]
        return {"Fn::Join": [separator, [_substitute(item, values) for item in items]]}
    if not isinstance(node, str):
        return node
    parts: list[Any] = []
    for index, piece in enumerate(_SUBSTITUTION.split(node)):
        # split() alternates text and names: a name without a substitution stays as written.
        if index % 2 == 0:
            parts.append(piece)
        else:
            parts.append(values[piece] if piece in values else "${" + piece + "}")
    return {"Fn::Join": ["", parts]}


def install(patches: Patches) -> None:
    """SEAM: `!Ref` of a layer version is its ARN, of an event bus its name, as in CloudFormation;
    the stack's state machines go to the interpreter's backend (the one the API serves)."""
    from moto.awslambda.models import LayerVersion
    from moto.events.models import EventBus
    from moto.stepfunctions import models as stepfunctions
    from moto.stepfunctions import responses  # noqa: F401  (before the patch: see below)
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    patches.add_attribute(LayerVersion, "physical_resource_id", property(lambda self: self.arn))
    patches.add_attribute(EventBus, "physical_resource_id", property(lambda self: self.name))
    # Only moto's CloudFormation hooks of StateMachine read this module global. `responses` copies
    # it at import: imported under the patch, it would keep the parser's backends after undo.
    patches.patch_attribute(stepfunctions, "stepfunctions_backends", stepfunctions_parser_backends)


def _supported_types() -> set[str]:
    from moto.cloudformation.parsing import get_model_map

    return set(get_model_map())


class Deployer:
    """Creates a template's resources as one moto CloudFormation stack with `client(service)`."""

    def __init__(
        self,
        template_path: Path,
        client: Callable[[str], Any],
        *,
        stack_name: str = "fairmot",
        parameters: dict[str, str] | None = None,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        self.base_dir = template_path.parent
        self.parameters = dict(parameters or {})
        self.template = translate(template_path, self.parameters, local_parameter_value)
        self.client = client
        self.stack = DeployedStack(stack_name)
        self.extra_environment = extra_environment or {}

    def deploy(self) -> DeployedStack:
        resources: dict[str, Any] = self.template["Resources"]
        supported = _supported_types()
        for logical, spec in list(resources.items()):
            kind, properties = spec["Type"], spec.setdefault("Properties", {})
            if kind in NO_LOCAL_EFFECT:
                self.stack.skipped[logical] = kind
                del resources[logical]
                continue
            if kind not in supported:
                raise TemplateError(
                    f"{logical}: local mode cannot provide {kind} (moto's CloudFormation has no "
                    "model for it); add it to NO_LOCAL_EFFECT only if it changes nothing offline"
                )
            if kind in _NAME_PROPERTIES:
                name = f"{self.stack.name}-{logical}"[:64]  # IAM's and EventBridge's limit
                properties.setdefault(
                    _NAME_PROPERTIES[kind], name.lower() if kind == "AWS::S3::Bucket" else name
                )
            if kind == "AWS::StepFunctions::StateMachine":
                values = properties.pop("DefinitionSubstitutions", None) or {}
                properties["DefinitionString"] = _substitute(properties["DefinitionString"], values)
        self._upload_placeholders(resources)
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=self.stack.name,
            TemplateBody=json.dumps(self.template),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        described = cloudformation.describe_stacks(StackName=self.stack.name)["Stacks"][0]
        if described["StackStatus"] != "CREATE_COMPLETE":
            raise TemplateError(f"stack {self.stack.name}: {described['StackStatus']}")
        self.stack.outputs = {
            o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])
        }
        for resource in cloudformation.list_stack_resources(StackName=self.stack.name)[
            "StackResourceSummaries"
        ]:
            kind = _KINDS.get(resource["ResourceType"])
            if kind is not None:
                getattr(self.stack, kind)[resource["LogicalResourceId"]] = resource[
                    "PhysicalResourceId"
                ]
        self._complete_buckets(resources)
        self._register_functions(resources)
        return self.stack

    def _upload_placeholders(self, resources: dict[str, Any]) -> None:
        """moto's Lambda fetches the code objects; the handlers themselves run from disk."""
        s3 = self.client("s3")
        s3.create_bucket(Bucket=LOCAL_CODE_BUCKET)
        for spec in resources.values():
            code = spec["Properties"].get("Code") or spec["Properties"].get("Content") or {}
            if code.get("S3Bucket") == LOCAL_CODE_BUCKET:
                s3.put_object(Bucket=LOCAL_CODE_BUCKET, Key=code["S3Key"], Body=_placeholder_zip())

    def _complete_buckets(self, resources: dict[str, Any]) -> None:
        """What moto's CloudFormation ignores on a bucket: versioning, notifications."""
        s3 = self.client("s3")
        for logical, name in self.stack.buckets.items():
            properties = resources[logical]["Properties"]
            if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            notifications = properties.get("NotificationConfiguration", {})
            if "EventBridgeConfiguration" in notifications:
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
                )
            elif notifications:
                raise TemplateError(
                    f"{logical}: local mode delivers only EventBridge notifications"
                )

    def _register_functions(self, resources: dict[str, Any]) -> None:
        aws_lambda = self.client("lambda")
        for logical, name in self.stack.functions.items():
            properties = resources[logical]["Properties"]
            config = aws_lambda.get_function_configuration(FunctionName=name)
            # moto keeps a Number parameter's value as it came; Lambda's environment is strings.
            variables = config.get("Environment", {}).get("Variables", {})
            environment = {k: str(v) for k, v in variables.items()}
            lambda_seam.register_function(
                lambda_seam.LocalFunction(
                    name=name,
                    code_dir=local_artifact(self.base_dir, properties["Code"]),
                    handler=config["Handler"],
                    environment={**environment, **self.extra_environment},
                    timeout_s=config["Timeout"],
                    memory_mb=config["MemorySize"],
                    arn=config["FunctionArn"],
                    layer_dirs=tuple(
                        self._layer_dir(logical, layer, resources)
                        for layer in properties.get("Layers", [])
                    ),
                )
            )

    def _layer_dir(self, function: str, layer: Any, resources: dict[str, Any]) -> Path:
        # moto's CloudFormation drops a function's Layers: read them from the template.
        spec = resources.get(layer.get("Ref", "")) if isinstance(layer, dict) else None
        if spec is None or spec["Type"] != "AWS::Lambda::LayerVersion":
            raise TemplateError(f"{function}: layer {layer} is not a layer of this template")
        return local_artifact(self.base_dir, spec["Properties"]["Content"])
