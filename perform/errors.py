"""User-facing errors and rate-limited reporting of repeated failures."""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass


class PerformError(Exception):
    """An error the user can fix (bad file, bad option); shown as a clean message, no traceback."""


@dataclass(frozen=True, slots=True)
class CapturedError:
    """An exception captured on a stage result, so the frame loop can carry on."""

    kind: str
    message: str
    traceback: str

    @classmethod
    def capture(cls, exc: BaseException) -> "CapturedError":
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(type(exc).__name__, str(exc), tb)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class ErrorReporter:
    """Logs a repeated error with its traceback the first time, then counts at 2, 4, 8, ...

    A loop that fails every frame at 60 fps must not flood the log (vispy's "reminders").
    Thread-safe; keyed by (where, exception type, message).
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._counts: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def report(self, where: str, exc: BaseException) -> int:
        """Record one occurrence; returns how many times this error has been seen."""
        key = (where, type(exc).__name__, str(exc)[:200])
        with self._lock:
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
        if n == 1:
            self._log.error("%s failed: %s", where, exc, exc_info=exc)
        elif n & (n - 1) == 0:  # powers of two
            self._log.error("%s failed again (%d times so far): %s", where, n, exc)
        return n

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class Backoff:
    """The wait between attempts to open a lost device again: `first` seconds, doubling after each failed
    attempt up to `most`, and back to `first` once the device works."""

    def __init__(self, first_most: tuple[float, float]) -> None:
        self.first, self.most = float(first_most[0]), float(first_most[1])
        self.delay = self.first

    def ok(self) -> None:
        self.delay = self.first

    def wait(self, stop: threading.Event) -> None:
        """Wait the current delay (less if `stop` is set), then double it for the next failure."""
        stop.wait(self.delay)
        self.delay = min(self.delay * 2, self.most)
