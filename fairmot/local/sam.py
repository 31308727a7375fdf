"""template.yaml -> plain CloudFormation with the SAM translator (what `sam deploy` sends).

The translator wants artifacts in S3 (`sam package` puts them there); local mode keeps them on
disk. Local paths in CodeUri/ContentUri become `s3://LOCAL_CODE_BUCKET/<path>`, which the
deployer maps back to the folder; a DefinitionUri file is inlined as Definition.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairmot.local.template import TemplateError, load_template

LOCAL_CODE_BUCKET = "fairmot-local-code"
_ARTIFACT_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


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


def translate(path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    """The template as plain CloudFormation (intrinsics kept as data for the deployer)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    template = load_template(path)
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
