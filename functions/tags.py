"""SageMaker tags that tie a resource to what it serves (operators search by them)."""

from __future__ import annotations

import re

from models import Meta

# SageMaker tag values: at most 256 characters of letters, digits, spaces and _.:/=+-@.
MAX_TAG_VALUE = 256
_BAD_TAG_CHARS = re.compile(r"[^\w .:/=+\-@]")


def tag(key: str, value: str) -> dict[str, str]:
    return {"Key": key, "Value": _BAD_TAG_CHARS.sub("_", value)[:MAX_TAG_VALUE]}


def pipeline_tags(meta: Meta, **subjects: str) -> list[dict[str, str]]:
    """Tags naming the correlation id, the execution and the subject (dataset, video, model)."""
    tags = [
        tag("fairmot:correlation-id", meta.correlationId),
        tag("fairmot:execution", meta.executionArn.rsplit(":", 1)[-1]),
    ]
    tags += [tag(f"fairmot:{key}", value) for key, value in sorted(subjects.items())]
    return tags
