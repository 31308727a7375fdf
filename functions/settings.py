"""Environment settings of the functions (set by template.yaml), read when a handler runs."""

from __future__ import annotations

import json
import os

from errors import PipelineError


def env(name: str, default: str | None = None) -> str:
    """A required environment variable (or its default)."""
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise PipelineError(f"environment variable {name} is not set (see template.yaml)")
    return value


def env_optional(name: str) -> str | None:
    """An optional environment variable: None when unset or empty (an empty template parameter)."""
    return os.environ.get(name) or None


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "true" if default else "false").lower() in ("1", "true", "yes")


def env_json_strings(name: str) -> dict[str, str]:
    """A JSON object of strings (e.g. DEFAULT_HYPERPARAMETERS)."""
    raw = json.loads(env(name, "{}"))
    if not isinstance(raw, dict):
        raise PipelineError(f"{name} must be a JSON object, got {raw!r}")
    return {str(k): str(v) for k, v in raw.items()}


def name_prefix() -> str:
    """Every SageMaker name starts with this (IAM policies are scoped to it)."""
    return env("NAME_PREFIX", "fairmot-dev")
