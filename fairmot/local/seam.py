"""Book-keeping for the places where local mode patches moto's internals.

Every seam module patches moto through `patch_attribute`, which refuses to patch an attribute
that is missing (a moto upgrade that renames it fails loudly, not silently) and records how to
undo the patch. moto is pinned exactly in pyproject.toml; tests/unit/test_local_seams.py pins
each seam.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PINNED_MOTO_VERSION = "5.2.5"


class SeamError(RuntimeError):
    """moto no longer has the internal that a local-mode seam patches."""


@dataclass
class Patches:
    """The attributes one seam replaced, so `undo` can put them back."""

    undo_steps: list[Callable[[], None]] = field(default_factory=list)

    def patch_attribute(self, owner: Any, name: str, replacement: Any) -> Any:
        """Replace `owner.name`; return the original. Raises SeamError if it is missing."""
        if name not in vars(owner) and not hasattr(owner, name):
            raise SeamError(
                f"moto changed: {getattr(owner, '__qualname__', owner)}.{name} is gone; "
                f"local mode is written against moto=={PINNED_MOTO_VERSION}"
            )
        had_own = name in vars(owner)
        original = vars(owner)[name] if had_own else getattr(owner, name)
        setattr(owner, name, replacement)

        def undo() -> None:
            if had_own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

        self.undo_steps.append(undo)
        return original

    def add_attribute(self, owner: Any, name: str, value: Any) -> None:
        """Add an attribute moto lacks (an API it does not implement); undone like a patch."""
        if hasattr(owner, name):
            raise SeamError(
                f"moto now has {getattr(owner, '__qualname__', owner)}.{name}: "
                "review whether the local-mode addition is still needed"
            )
        setattr(owner, name, value)
        self.undo_steps.append(lambda: delattr(owner, name))

    def undo(self) -> None:
        while self.undo_steps:
            self.undo_steps.pop()()


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """os.environ with `variables` set, each put back as it was (or removed) on exit."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def environ_snapshot() -> dict[str, str]:
    """A copy of os.environ that a concurrent change cannot break. dict(os.environ) reads the
    keys, then each value: a Lambda invocation ending in between (its variables put back by
    environment()) made it raise KeyError('AWS_LAMBDA_FUNCTION_NAME') while a job or an endpoint
    started. The mapping's own dict is copied in one step under the GIL instead."""
    return _snapshot(os.environ)


def guard_environ_copies(patches: Patches) -> None:
    """Make os.environ's copy(), items() and values() snapshots taken in one step.

    Local mode sets and removes each Lambda's variables in this one process while other threads
    make boto3 clients, and botocore does both (`os.environ.copy()` for the instance-metadata
    fetcher, `os.environ.items()` for proxies): a key removed between reading the keys and
    their values raised KeyError inside moto's state-machine tasks, failing a whole batch
    execution (States.Runtime, 'AWS_LAMBDA_FUNCTION_NAME'). One process per function, as AWS
    has, would need no guard.
    """
    environ_type = type(os.environ)  # os._Environ: os.environb is one too
    patches.patch_attribute(environ_type, "copy", _snapshot)
    patches.patch_attribute(environ_type, "items", lambda self: _snapshot(self).items())
    patches.patch_attribute(environ_type, "values", lambda self: _snapshot(self).values())


def _snapshot(environ: Any) -> dict[Any, Any]:
    data = environ._data.copy()  # one C-level copy: no key can go missing half-way
    return {environ.decodekey(key): environ.decodevalue(value) for key, value in data.items()}


_install_lock = threading.Lock()


def check_moto_version() -> None:
    """Refuse to patch any moto other than the pinned one."""
    import moto

    if moto.__version__ != PINNED_MOTO_VERSION:
        raise SeamError(
            f"local mode patches moto internals and is pinned to moto=={PINNED_MOTO_VERSION}; "
            f"found {moto.__version__}. Install the pinned version or review every seam."
        )
