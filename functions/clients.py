"""boto3 clients made once per execution environment, not once per invocation.

AWS advises creating SDK clients outside the handler so warm invocations reuse them: making one
loads its service model and event hooks, 0.1-0.5 s of CPU. The schedule tick made three a minute
and every step one or two. The cache key holds the environment a client was configured from, so
a client never outlives the endpoint, region or credentials it was made for (local mode runs
several stacks, each with its own endpoint, in one process).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3

# What boto3.client() reads from the environment to choose where and as whom to call.
_CONFIGURING_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
)
_clients: dict[tuple[str | None, ...], Any] = {}
_lock = threading.Lock()  # boto3's default session is not safe to build clients on concurrently


def client(service: str) -> Any:
    """The boto3 client for `service`, made on first use under the current environment."""
    key = (service, *(os.environ.get(name) for name in _CONFIGURING_VARIABLES))
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = boto3.client(service)  # type: ignore[call-overload]
        return found
