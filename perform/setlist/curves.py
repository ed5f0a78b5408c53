"""Transition curves: linear progress 0..1 in, eased progress 0..1 out (ends fixed at 0 and 1)."""

from __future__ import annotations

import types
from typing import Callable, Mapping


def _smoothstep(x: float) -> float:
    return x * x * (3.0 - 2.0 * x)


CURVES: Mapping[str, Callable[[float], float]] = types.MappingProxyType({
    "linear": lambda x: x,
    "smoothstep": _smoothstep,
    "ease-in": lambda x: x * x,
    "ease-out": lambda x: 1.0 - (1.0 - x) * (1.0 - x),
    "ease-in-out": lambda x: 2.0 * x * x if x < 0.5 else 1.0 - 2.0 * (1.0 - x) * (1.0 - x),
})


def apply_curve(name: str, x: float) -> float:
    """Eased progress; x is clamped to 0..1 first, so a late or early frame never overshoots."""
    x = 0.0 if x <= 0.0 else 1.0 if x >= 1.0 else float(x)
    return CURVES[name](x)
