"""Live network parameters of a model (issue 13's contract): a table of names with ranges and defaults,
and the values the next image uses. Non-finite values never get in; missing names go back to defaults."""

from __future__ import annotations

import math
from typing import Mapping


class NetParams:
    """name -> (low, high, default), and the current values. Owned by one model; `set` replaces the whole
    set in one assignment, so the inference thread reads a consistent one."""

    def __init__(self, table: Mapping[str, tuple[float, float, float]]) -> None:
        self._table = dict(table)
        self.values: dict[str, float] = {k: d for k, (_, _, d) in self._table.items()}

    def table(self) -> dict[str, tuple[float, float, float]]:
        return dict(self._table)

    def declare(self, defaults: Mapping[str, float]) -> None:
        """New defaults (a setlist's declared values), clamped to each range; unknown or non-finite ones ignored.
        The current values become the new defaults."""
        for name, v in defaults.items():
            if name in self._table and _finite(v):
                lo, hi, _ = self._table[name]
                self._table[name] = (lo, hi, min(max(float(v), lo), hi))
        self.values = {k: d for k, (_, _, d) in self._table.items()}

    def set(self, values: Mapping[str, float]) -> None:
        """Unknown names ignored, missing ones back to their default, a non-finite one keeps its last value."""
        new = dict(self.values)
        for name, (lo, hi, default) in self._table.items():
            v = values.get(name, default)
            if _finite(v):
                new[name] = min(max(float(v), lo), hi)
        self.values = new


def _finite(v: object) -> bool:
    try:
        return math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
