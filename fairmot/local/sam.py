"""template.yaml -> plain CloudFormation with the SAM translator (what `sam deploy` sends).

The translator wants artifacts in S3 (`sam package` puts them there); local mode keeps them on
disk. Local paths in CodeUri/ContentUri become `s3://LOCAL_CODE_BUCKET/<path>`, which the
deployer maps back to the folder; a DefinitionUri file is inlined as Definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

LOCAL_CODE_BUCKET = "fairmot-local-code"
_ARTIFACT_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class TemplateError(ValueError):
    """The template uses something local mode cannot provide."""


def load_template(path: Path) -> dict[str, Any]:
    """Decode a CloudFormation/SAM template with intrinsics kept as data; plain dicts/lists."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if template is None:
        raise TemplateError(f"cannot read {path}: {[str(m) for m in matches]}")
    return _plain(template)


def _plain(node: Any) -> Any:
    # cfn-lint's nodes carry line marks; the translator and json.dumps want plain types.
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


class _NoManagedPolicies:
    """Managed policy names stay names: nothing offline can list AWS's policies."""

    def load(self) -> dict[str, str]:
        return {}


def _localise(template: dict[str, Any], base: Path) -> None:
    globals_code = template.get("Globals", {}).get("Function", {})
    if isinstance(globals_code.get("CodeUri"), str):
        globals_code["CodeUri"] = f"s3://{LOCAL_CODE_BUCKET}/{globals_code['CodeUri']}"
    for logical, resource in template.get("Resources", {}).items():
        properties = resource.setdefault("Properties", {})
        key = _ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        if key and isinstance(properties.get(key), str):
            properties[key] = f"s3://{LOCAL_CODE_BUCKET}/{properties[key]}"
        uri = properties.get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(uri, str):
            path = base / uri
            if not path.is_file():
                raise TemplateError(f"{logical}: DefinitionUri {uri} is not a file under {base}")
            properties["Definition"] = json.loads(path.read_text())
            del properties["DefinitionUri"]


def translate(
    path: Path, parameters: dict[str, str], missing: Callable[[str], str]
) -> dict[str, Any]:
    """The template as plain CloudFormation (intrinsics kept as data for create_stack).

    A parameter with no Default and no value in `parameters` gets `missing(name)`, added there.
    """
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    template = load_template(path)
    for name, spec in template.get("Parameters", {}).items():
        if name not in parameters and "Default" not in spec:
            parameters[name] = missing(name)
    _localise(template, path.parent)
    try:
        translated: dict[str, Any] = transform(template, parameters, _NoManagedPolicies())
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"{path}: the SAM translator refused it: {causes}") from error
    return translated


def local_artifact(base: Path, code: dict[str, Any]) -> Path:
    """The folder behind a translated Code/Content {S3Bucket, S3Key}."""
    if code.get("S3Bucket") != LOCAL_CODE_BUCKET:
        raise TemplateError(f"code at {code} is not a local folder: local mode runs only those")
    return (base / str(code["S3Key"])).resolve()
