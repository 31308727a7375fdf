"""samconfig.toml: the dev and prod environments deploy valid parameters to separate stacks."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _overrides(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_environment_overrides_are_template_parameters_with_allowed_values(
    environment: str,
) -> None:
    from cfnlint.decode import decode

    template, _ = decode(str(REPO / "template.yaml"))
    assert template is not None
    parameters = template["Parameters"]
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    deploy = config[environment]["deploy"]["parameters"]
    overrides = _overrides(deploy["parameter_overrides"])
    assert overrides["Stage"] == environment
    for name, value in overrides.items():
        assert name in parameters, f"{environment}: {name} is not a template parameter"
        spec = parameters[name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), f"{name}={value}"
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], f"{name}={value}"


def test_dev_and_prod_are_separate_stacks() -> None:
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    names = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("dev", "prod")}
    assert names == {"dev": "fairmot-dev", "prod": "fairmot-prod"}
