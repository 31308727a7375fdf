"""Deterministic SageMaker names from bucket/key/etag, within SageMaker's naming rules.

The same object (same bucket, key and content) always maps to the same job name, so a
duplicate S3 event finds its job already there instead of starting a second one.
"""

from __future__ import annotations

import hashlib
import re

from errors import InvalidNameError

# SageMaker: jobs, models, endpoint configs and endpoints allow 63 characters ...
MAX_NAME = 63
# ... hyperparameter tuning jobs only 32.
MAX_TUNING_JOB_NAME = 32
# SageMaker's name pattern (no underscores, no leading/trailing or doubled-up-only hyphens).
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# 10 hex digits = 40 bits: collisions are negligible at any plausible number of uploads.
DIGEST_CHARS = 10


def digest(*parts: str) -> str:
    """A short stable hash of the parts (order matters)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:DIGEST_CHARS]


def slug(text: str) -> str:
    """Lower-case alphanumerics and single hyphens only."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


def validate_name(name: str, limit: int = MAX_NAME) -> str:
    """Return `name` when SageMaker accepts it; raise InvalidNameError otherwise."""
    if len(name) > limit or not NAME_PATTERN.match(name):
        raise InvalidNameError(
            f"{name!r} is not a valid SageMaker name (at most {limit} characters of "
            "letters, digits and hyphens, starting and ending with a letter or digit)"
        )
    return name


def resource_name(prefix: str, kind: str, label: str, hashed: str, limit: int = MAX_NAME) -> str:
    """`<prefix>-<kind>-<label>-<hash>`, the label shortened (or dropped) to fit `limit`."""
    head = f"{slug(prefix)}-{kind}-"
    room = limit - len(head) - len(hashed) - 1
    label = slug(label)[: max(room, 0)].strip("-")
    name = f"{head}{label}-{hashed}" if label else f"{head}{hashed}"
    return validate_name(name, limit)


def object_name(
    prefix: str,
    kind: str,
    label: str,
    *,
    bucket: str,
    key: str,
    etag: str,
    salt: str = "",
    limit: int = MAX_NAME,
) -> str:
    """The name of the resource made for one S3 object version (etag) and optional run salt."""
    return resource_name(prefix, kind, label, digest(bucket, key, etag.strip('"'), salt), limit)
