"""A memory budget shared by concurrent requests: reserve bytes before allocating them.

The endpoint bounds its peak memory by charging what requests hold (bodies being read, frames
being decoded) to budgets of fixed size: a request that would overdraw one waits for room until
its deadline, or is refused at once where it must not wait (the event loop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceededError(Exception):
    """One reservation asks for more than the whole budget: it can never be granted."""


class BudgetTimeoutError(Exception):
    """No room in the budget before the deadline."""


class ByteBudget:
    """A counting semaphore over bytes; thread-safe."""

    def __init__(self, capacity: int, name: str) -> None:
        if capacity <= 0:
            raise ValueError(f"the {name} budget must be positive, got {capacity}")
        self.capacity = capacity
        self.name = name
        self._used = 0
        self._peak = 0
        self._room = threading.Condition()

    @property
    def used(self) -> int:
        with self._room:
            return self._used

    @property
    def peak(self) -> int:
        """The most bytes ever reserved at once (for /stats and the benchmark)."""
        with self._room:
            return self._peak

    def _check(self, size: int) -> None:
        if size > self.capacity:
            raise BudgetExceededError(
                f"needs {size / 2**20:.0f} MiB, more than the whole {self.name} budget "
                f"({self.capacity / 2**20:.0f} MiB)"
            )

    def _take(self, size: int) -> None:
        self._used += size
        self._peak = max(self._peak, self._used)

    def try_acquire(self, size: int) -> bool:
        """Reserve `size` bytes now or return False; never waits."""
        self._check(size)
        with self._room:
            if self._used + size > self.capacity:
                return False
            self._take(size)
            return True

    def acquire(self, size: int, deadline: float) -> None:
        """Reserve `size` bytes, waiting until `deadline` (time.monotonic) at most."""
        self._check(size)
        with self._room:
            while self._used + size > self.capacity:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BudgetTimeoutError(
                        f"the {self.name} budget stayed full until the request's deadline"
                    )
                self._room.wait(remaining)
            self._take(size)

    def release(self, size: int) -> None:
        with self._room:
            self._used -= size
            self._room.notify_all()

    @contextmanager
    def hold(self, size: int, deadline: float) -> Iterator[None]:
        """Reserve `size` bytes for the `with` block (see `acquire`)."""
        self.acquire(size, deadline)
        try:
            yield
        finally:
            self.release(size)
