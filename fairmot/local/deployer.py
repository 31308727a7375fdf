"""Deploy template.yaml into moto: the SAM translator's CloudFormation, resource by resource.

`sam.translate` turns the template into plain CloudFormation (SAM's Globals, Events, policy
templates and generated roles included, as on AWS). This orders the resources by their
Ref/GetAtt/Sub/DependsOn dependencies and creates each in moto with boto3: buckets (EventBridge
notifications on), event buses, rules and their targets, SQS queues, SNS topics, IAM roles,
Lambda functions and layers (registered with the Lambda seam from their local folders) and state
machines (DefinitionSubstitutions resolved). Types with no effect offline (policies, alarms, log
groups, permissions) are listed as skipped; any other type fails the deployment by name.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from fairmot.local import lambda_seam
from fairmot.local.sam import local_artifact, translate
from fairmot.local.template import ACCOUNT_ID, REGION, Resolver, TemplateError, load_template

_SUB_NAMES = re.compile(r"\$\{([A-Za-z0-9_]+)(?:\.[A-Za-z0-9_.]+)?\}")
# Resource types that change nothing local mode does: access policies and permissions (moto does
# not enforce IAM), alarms and log groups (nothing offline watches them).
NO_LOCAL_EFFECT = {
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::LogGroup",
}


@dataclass
class DeployedStack:
    """What was created: logical id -> physical id per kind, and the resolved Outputs."""

    name: str
    buckets: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    topics: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    rules: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
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


def _dependencies(node: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value.split(".")[0] if isinstance(value, str) else value[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m for m in _SUB_NAMES.findall(text) if m in names}
                if not isinstance(value, str):
                    found |= _dependencies(value[1], names)
            else:
                found |= _dependencies(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _dependencies(item, names)
    return found


def local_parameter_value(name: str) -> str:
    """A value for a parameter with no Default: nothing reads it offline but it must resolve."""
    if name.endswith("ImageUri"):
        # Container images do not exist offline: jobs run the entry points as processes.
        return f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-fairmot:local"
    return "local"


def _tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# local mode runs the handler from its CodeUri\n")
    return buffer.getvalue()


class Deployer:
    """Creates a template's resources in moto through the given boto3 session."""

    def __init__(
        self,
        template_path: Path,
        session: Any,
        *,
        stack_name: str = "fairmot",
        parameters: dict[str, str] | None = None,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        self.template_path = template_path
        self.base_dir = template_path.parent
        given = dict(parameters or {})
        for name, spec in load_template(template_path).get("Parameters", {}).items():
            if name not in given and "Default" not in spec:
                given[name] = local_parameter_value(name)
        self.template = translate(template_path, given)
        self.session = session
        self.resolver = Resolver(self.template, stack_name, given)
        self.stack = DeployedStack(stack_name)
        self.extra_environment = extra_environment or {}
        self._clients: dict[str, Any] = {}
        self._layers: dict[str, Path] = {}  # layer version ARN -> its folder

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=REGION)
        return self._clients[service]

    def deploy(self) -> DeployedStack:
        resources: dict[str, Any] = self.template.get("Resources", {})
        names = set(resources)
        graph = {
            logical: _dependencies(spec.get("Properties", {}), names)
            | set(
                [spec["DependsOn"]]
                if isinstance(spec.get("DependsOn"), str)
                else spec.get("DependsOn", [])
            )
            for logical, spec in resources.items()
        }
        for logical in TopologicalSorter(graph).static_order():
            spec = resources[logical]
            if "Condition" in spec and not self.resolver.condition(spec["Condition"]):
                continue
            self._deploy_one(logical, spec)
        for name, output in self.template.get("Outputs", {}).items():
            try:
                self.stack.outputs[name] = self.resolver.resolve(output.get("Value"))
            except TemplateError as error:
                self.stack.outputs[name] = f"<unresolved: {error}>"
        return self.stack

    # ---- one resource --------------------------------------------------------------------
    def _physical(
        self, logical: str, properties: dict[str, Any], key: str, lower: bool = False
    ) -> str:
        name = properties.get(key) or f"{self.stack.name}-{logical}"
        return str(name).lower() if lower else str(name)

    def _set(self, logical: str, ref: Any, **attributes: Any) -> None:
        self.resolver.refs[logical] = ref
        for attribute, value in attributes.items():
            self.resolver.attributes[(logical, attribute)] = value

    def _deploy_one(self, logical: str, spec: dict[str, Any]) -> None:
        kind = spec["Type"]
        handler = getattr(self, "_deploy_" + kind.replace("::", "_").lower(), None)
        if handler is None:
            if kind not in NO_LOCAL_EFFECT:
                raise TemplateError(
                    f"{logical}: local mode cannot provide {kind}; add it to fairmot/local/"
                    "deployer.py (or to NO_LOCAL_EFFECT if it changes nothing offline)"
                )
            self.stack.skipped[logical] = kind
            placeholder = f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical}"
            self.resolver.refs[logical] = f"{self.stack.name}-{logical}"
            for attribute in ("Arn", "Name", "Id"):
                self.resolver.attributes.setdefault((logical, attribute), placeholder)
            return
        handler(logical, spec)

    def _deploy_aws_s3_bucket(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "BucketName", lower=True)
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        notifications = properties.get("NotificationConfiguration", {})
        if "EventBridgeConfiguration" in notifications:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={"EventBridgeConfiguration": {}},
            )
        self.stack.buckets[logical] = name
        self._set(
            logical,
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{REGION}.amazonaws.com",
        )

    def _deploy_aws_events_eventbus(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "Name")
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.stack.buses[logical] = name
        self._set(logical, name, Arn=arn, Name=name)

    def _deploy_aws_sqs_queue(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "QueueName")
        attributes = {
            k: str(v)
            for k, v in properties.items()
            if k
            in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "FifoQueue",
                "ReceiveMessageWaitTimeSeconds",
            )
        }
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        self.stack.queues[logical] = url
        self._set(logical, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _deploy_aws_sns_topic(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "TopicName")
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.stack.topics[logical] = arn
        self._set(logical, arn, TopicArn=arn, TopicName=name)

    def _deploy_aws_iam_role(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "RoleName")[:64]
        trust = properties.get("AssumeRolePolicyDocument") or {"Statement": []}
        iam = self.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        self.stack.roles[logical] = arn
        self._set(logical, name, Arn=arn, RoleId=f"AROA{logical.upper()[:16]}")

    def _deploy_aws_lambda_layerversion(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "LayerName")
        folder = local_artifact(self.base_dir, properties["Content"])
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{name}:1"
        self._layers[arn] = folder
        self._set(logical, arn, LayerVersionArn=arn)

    def _deploy_aws_lambda_function(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        name = self._physical(logical, properties, "FunctionName")
        environment = {
            k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()
        }
        timeout = int(properties.get("Timeout", lambda_seam.DEFAULT_TIMEOUT_S))
        memory = int(properties.get("MemorySize", 128))
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime=properties.get("Runtime", "python3.12"),
            Role=properties["Role"],
            Handler=properties["Handler"],
            Code={"ZipFile": _tiny_zip()},
            Environment={"Variables": environment},
            Timeout=timeout,
            MemorySize=memory,
        )["FunctionArn"]
        layers = [self._layers[arn] for arn in properties.get("Layers", []) if arn in self._layers]
        lambda_seam.register_function(
            lambda_seam.LocalFunction(
                name=name,
                code_dir=local_artifact(self.base_dir, properties["Code"]),
                handler=properties["Handler"],
                environment={**environment, **self.extra_environment},
                timeout_s=timeout,
                memory_mb=memory,
                arn=arn,
                layer_dirs=tuple(layers),
            )
        )
        self.stack.functions[logical] = name
        self._set(logical, name, Arn=arn)

    def _definition(self, properties: dict[str, Any]) -> str:
        if "Definition" in properties:
            text = json.dumps(properties["Definition"])
        else:
            text = str(properties["DefinitionString"])
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", str(value))
        json.loads(text)  # a substitution that broke the JSON fails here, by name
        return text

    def _deploy_aws_stepfunctions_statemachine(self, logical: str, spec: dict[str, Any]) -> None:
        raw = spec.get("Properties", {})
        properties = self.resolver.resolve({k: v for k, v in raw.items() if k != "Definition"})
        if "Definition" in raw:
            properties["Definition"] = self.resolver.resolve(raw["Definition"])
        name = self._physical(logical, properties, "StateMachineName")
        arn = self.client("stepfunctions").create_state_machine(
            name=name,
            definition=self._definition(properties),
            roleArn=properties["RoleArn"],
            type=properties.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        self.stack.state_machines[logical] = arn
        self._set(logical, arn, Arn=arn, Name=name)

    def _deploy_aws_events_rule(self, logical: str, spec: dict[str, Any]) -> None:
        properties = self.resolver.resolve(spec.get("Properties", {}))
        properties.setdefault("Name", f"{self.stack.name}-{logical}"[:64])
        name, arn = self._put_rule(logical, properties)
        self._set(logical, name, Arn=arn)

    def _put_rule(self, logical: str, rule: dict[str, Any]) -> tuple[str, str]:
        events = self.client("events")
        bus = rule.get("EventBusName") or "default"
        if isinstance(bus, str) and bus.startswith("arn:"):
            bus = bus.rsplit("/", 1)[-1]
        pattern = rule.get("EventPattern")
        trigger = (
            {"ScheduleExpression": rule["ScheduleExpression"]}  # fired by schedule_seam
            if "ScheduleExpression" in rule
            else {"EventPattern": pattern if isinstance(pattern, str) else json.dumps(pattern)}
        )
        arn = events.put_rule(
            Name=rule["Name"], EventBusName=bus, State=rule.get("State", "ENABLED"), **trigger
        )["RuleArn"]
        targets = []
        for target in rule.get("Targets", []):
            entry = {
                k: v
                for k, v in target.items()
                if k
                in (
                    "Id",
                    "Arn",
                    "Input",
                    "InputPath",
                    "InputTransformer",
                    "RoleArn",
                    "SqsParameters",
                )
            }
            if isinstance(entry.get("Input"), dict):
                entry["Input"] = json.dumps(entry["Input"])
            targets.append(entry)
        if targets:
            events.put_targets(Rule=rule["Name"], EventBusName=bus, Targets=targets)
        self.stack.rules[logical] = rule["Name"]
        return rule["Name"], arn
