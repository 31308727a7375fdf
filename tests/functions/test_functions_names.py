"""Deterministic SageMaker names: stable per object version, always within SageMaker's rules."""

from __future__ import annotations

import re

import names
import pytest
from cfnlint.decode import decode
from errors import InvalidNameError
from functions_support import FUNCTIONS  # also puts functions/ on sys.path


def test_same_object_gives_same_name_and_new_content_a_new_one() -> None:
    args = {"bucket": "b", "key": "datasets/x/manifest.json", "etag": "abc"}
    first = names.object_name("fairmot-dev", "train", "x", **args)
    assert first == names.object_name("fairmot-dev", "train", "x", **{**args, "etag": '"abc"'})
    assert first != names.object_name("fairmot-dev", "train", "x", **{**args, "etag": "abd"})
    assert first != names.object_name("fairmot-dev", "train", "x", **args, salt="run-2")


@pytest.mark.parametrize("limit", [names.MAX_NAME, names.MAX_TUNING_JOB_NAME])
@pytest.mark.parametrize(
    "label", ["MOT17_half__train--", "x" * 200, "___", "Café Ü/ß", "a-b-c-d-e-f-g-h-i-j-k-l-m-n"]
)
def test_names_fit_the_limit_and_pattern(label: str, limit: int) -> None:
    name = names.object_name(
        "fairmot-dev", "hpo", label, bucket="b", key=label, etag="e", limit=limit
    )
    assert len(name) <= limit
    assert names.NAME_PATTERN.match(name), name
    assert name.startswith("fairmot-dev-hpo-")


def test_validate_name_rejects_what_sagemaker_rejects() -> None:
    for bad in ("has_underscore", "-leading", "trailing-", "x" * 64, ""):
        with pytest.raises(InvalidNameError):
            names.validate_name(bad)
    with pytest.raises(InvalidNameError):
        names.validate_name("x" * 33, names.MAX_TUNING_JOB_NAME)
    assert names.validate_name("a--b") == "a--b"


def test_prefix_too_long_for_a_tuning_job_fails_clearly() -> None:
    with pytest.raises(InvalidNameError, match="at most 32"):
        names.object_name("a" * 30, "hpo", "x", bucket="b", key="k", etag="e", limit=32)


def longest_allowed(pattern: str) -> str:
    """The longest run of 'a' that a template parameter's AllowedPattern accepts."""
    return max(("a" * n for n in range(1, 65) if re.match(pattern, "a" * n)), key=len)


def test_longest_allowed_prefix_and_stage_still_name_a_tuning_job() -> None:
    template, _ = decode(str(FUNCTIONS.parent / "template.yaml"))
    assert template is not None
    parameters = template["Parameters"]
    prefix = "-".join(
        longest_allowed(parameters[p]["AllowedPattern"]) for p in ("NamePrefix", "Stage")
    )
    name = names.object_name(
        prefix, "hpo", "mot17", bucket="b", key="k", etag="e", limit=names.MAX_TUNING_JOB_NAME
    )
    assert len(name) <= names.MAX_TUNING_JOB_NAME
