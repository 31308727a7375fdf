"""Read template.yaml and resolve the CloudFormation intrinsics local mode needs.

cfn-lint's decoder keeps `!Ref`/`!GetAtt`/`!Sub` as plain `{"Ref": ...}` data; this module turns
them into values for one local "stack" (account, region, stack name, physical names chosen by the
deployer). It is deliberately small: Ref, GetAtt, Sub, Join, Select, Split, If/Equals/Not/And/Or,
FindInMap and the pseudo parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
PARTITION = "aws"

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class TemplateError(ValueError):
    """The template uses something local mode cannot resolve."""


def load_template(path: Path) -> dict[str, Any]:
    """Decode a CloudFormation/SAM template with intrinsics kept as data; plain dicts/lists."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if template is None:
        raise TemplateError(f"cannot read {path}: {[str(m) for m in matches]}")
    return _plain(template)


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


@dataclass
class Resolver:
    """Resolves intrinsics against parameters, pseudo parameters and deployed resources.

    `refs` maps logical id -> the value of `Ref`; `attributes` maps (logical id, attribute) ->
    value. The deployer fills both as it creates resources, in dependency order.
    """

    template: dict[str, Any]
    stack_name: str
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    account_id: str = ACCOUNT_ID
    region: str = REGION

    def __post_init__(self) -> None:
        for name, spec in self.template.get("Parameters", {}).items():
            if name not in self.parameters:
                if "Default" not in spec:
                    raise TemplateError(f"parameter {name} has no Default: pass a value")
                self.parameters[name] = spec["Default"]

    def pseudo(self, name: str) -> Any:
        values = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
                f"{self.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return values[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"Ref {name}: not a parameter or a deployed resource")

    def get_att(self, name: str, attribute: str) -> Any:
        try:
            return self.attributes[(name, attribute)]
        except KeyError:
            raise TemplateError(f"GetAtt {name}.{attribute}: not known locally") from None

    def condition(self, name: str) -> bool:
        spec = self.template.get("Conditions", {}).get(name)
        if spec is None:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(spec))

    def resolve(self, node: Any) -> Any:
        """Return `node` with every intrinsic replaced by its value (AWS::NoValue dropped)."""
        if isinstance(node, list):
            return [v for v in (self.resolve(x) for x in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def sub(self, text: str, variables: Mapping[str, Any] | None = None) -> str:
        variables = variables or {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()


def _fn_sub(r: Resolver, arg: Any) -> str:
    if isinstance(arg, str):
        return r.sub(arg)
    text, variables = arg
    return r.sub(text, {k: r.resolve(v) for k, v in variables.items()})


def _fn_get_att(r: Resolver, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    return r.get_att(arg[0], r.resolve(arg[1]))


def _fn_if(r: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return r.resolve(when_true if r.condition(name) else when_false)


def _fn_find_in_map(r: Resolver, arg: Any) -> Any:
    name, first, second = (r.resolve(a) for a in arg)
    return r.template["Mappings"][name][first][second]


_INTRINSICS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": lambda r, a: str(r.resolve(a[0])).join(str(x) for x in r.resolve(a[1])),
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(r.resolve(a[0])),
    "Fn::If": _fn_if,
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::GetAZs": lambda r, a: [f"{r.region}a", f"{r.region}b"],
    "Fn::ToJsonString": lambda r, a: json.dumps(r.resolve(a)),
}
