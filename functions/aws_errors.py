"""Telling "does not exist" apart from real failures in boto3 ClientErrors."""

from __future__ import annotations

from botocore.exceptions import ClientError

_MISSING_CODES = {
    "NoSuchKey", "NoSuchVersion", "404", "NotFound", "ResourceNotFound", "NoSuchBucket",
}  # fmt: skip


def is_missing(error: ClientError) -> bool:
    """True when the error means the resource is not there (S3 or SageMaker wording)."""
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    message = str(info.get("Message", "")).lower()
    if code in _MISSING_CODES:
        return True
    # SageMaker answers Describe* of an unknown name with ValidationException.
    return code in ("ValidationException", "ResourceNotFound") and (
        "not found" in message or "could not find" in message or "does not exist" in message
    )
