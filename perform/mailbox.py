"""A latest-value slot: the hand-over between threads of the live clock.

A newer value replaces an older one; nothing queues up, so latency cannot grow.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Holds the newest value put; `get` waits for one newer than the caller has seen."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._version = 0
        self._closed = False

    def put(self, value: T) -> None:
        with self._cond:
            self._value = value
            self._version += 1
            self._cond.notify_all()

    def peek(self) -> tuple[T | None, int]:
        """The newest value and its version (0 if none yet), without waiting."""
        with self._cond:
            return self._value, self._version

    def get(self, after_version: int, timeout_s: float | None = None) -> tuple[T | None, int]:
        """Wait until a value newer than `after_version` is there (or timeout / close)."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > after_version or self._closed, timeout_s)
            return self._value, self._version

    def close(self) -> None:
        """Wake every waiter; later `get`s return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
