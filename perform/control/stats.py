"""Counters of control messages received and dropped, with one rate-limited log line per kind."""

from __future__ import annotations

import logging
import threading
import types
from typing import Mapping

# Why a message was dropped; docs/osc.md explains each.
DROP_KINDS: tuple[str, ...] = (
    "malformed",        # not an OSC packet, or a truncated one
    "unknown_address",  # no route, or a wildcard that matched nothing declared
    "wrong_type",       # argument types the route does not accept
    "out_of_range",     # NaN, inf, or outside the documented range
    "not_allowed",      # sender not in the allow-list
    "too_far_ahead",    # bundle timetag beyond the scheduling horizon
    "overflow",         # pending queue full (the engine is not draining)
    "send_failed",      # an outgoing datagram the OS refused (buffer full, no route)
)


class ControlCounters:
    """Thread-safe counts: `received`, `accepted`, and drops by kind.

    The first drop of a kind is logged with its detail; later ones of the same kind at counts
    2, 4, 8, ... so a flood of bad messages cannot flood the log (as perform.errors.ErrorReporter).
    """

    def __init__(self, logger: logging.Logger, what: str = "OSC message") -> None:
        self._log = logger
        self._what = what
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    def drop(self, kind: str, detail: str) -> int:
        """Count one dropped message of `kind`; returns how many of that kind so far."""
        key = "dropped." + kind
        with self._lock:
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
        if n == 1:
            self._log.warning("dropped %s (%s): %s", self._what, kind, detail)
        elif n & (n - 1) == 0:
            self._log.warning("dropped %s (%s) %d times so far; latest: %s", self._what, kind, n, detail)
        return n

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts.get(name, 0)

    def dropped(self, kind: str) -> int:
        return self.get("dropped." + kind)

    def total_dropped(self) -> int:
        with self._lock:
            return sum(v for k, v in self._counts.items() if k.startswith("dropped."))

    def snapshot(self) -> Mapping[str, int]:
        with self._lock:
            return types.MappingProxyType(dict(self._counts))

    def summary(self) -> str:
        snap = self.snapshot()
        return ", ".join(f"{k} {v}" for k, v in sorted(snap.items())) or "nothing yet"
