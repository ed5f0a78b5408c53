"""The pieces a mapping is made of: curves, LFO shapes and smoothers; pure or stepped by the caller's time."""

from __future__ import annotations

import math

from perform.mapping.spec import Smoothing
from perform.tracking.one_euro import OneEuroFilter

_MASK = (1 << 64) - 1


def unit(x: float, lo: float, hi: float) -> float:
    """x from [lo, hi] to 0..1, clamped (a reversed range reads reversed)."""
    u = (x - lo) / (hi - lo)
    return 0.0 if u < 0.0 else 1.0 if u > 1.0 else u


def curve(u: float, name: str, k: float = 3.0) -> float:
    """Shape a 0..1 value; every curve maps 0 -> 0 and 1 -> 1.

    exponential: (e^(k u) - 1) / (e^k - 1); k > 0 slow then fast (a fader for loudness-like
    parameters), k < 0 fast then slow. smoothstep: 3u^2 - 2u^3, gentle at both ends.
    """
    if name == "linear":
        return u
    if name == "smoothstep":
        return u * u * (3.0 - 2.0 * u)
    if name == "exponential":
        if abs(k) < 1e-6:
            return u
        return math.expm1(k * u) / math.expm1(k)
    raise ValueError(f"unknown curve {name!r}")


def _hash01(seed: int, i: int) -> float:
    """splitmix64 of (seed, i) -> [0, 1): the same on every machine and Python."""
    z = (seed * 0x9E3779B97F4A7C15 + i * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def lfo(shape: str, cycles: float, seed: int = 0) -> float:
    """An LFO's value 0..1 after `cycles` periods (phase included). Pure: the fixed clock relies on it.

    sine starts at 0 and peaks at half a cycle, as triangle does; saw rises 0 -> 1; square is 1 for
    the first half of each cycle; random wanders: a new seeded random level each cycle, eased into
    by smoothstep, so it is smooth and the same for the same time whatever the frame rate.
    """
    f = cycles - math.floor(cycles)
    if shape == "sine":
        return 0.5 - 0.5 * math.cos(2.0 * math.pi * f)
    if shape == "triangle":
        return 1.0 - abs(2.0 * f - 1.0)
    if shape == "saw":
        return f
    if shape == "square":
        return 1.0 if f < 0.5 else 0.0
    if shape == "random":
        i = math.floor(cycles)
        a, b = _hash01(seed, i), _hash01(seed, i + 1)
        return a + (b - a) * curve(f, "smoothstep")
    raise ValueError(f"unknown LFO shape {shape!r}")


class Smoother:
    """Smooths one scalar stream stepped by the caller's timestamps: an exponential lag with a time
    constant (`slew_s`: 63% of a step after that long), or a One Euro filter. Inactive = identity."""

    __slots__ = ("_cfg", "_euro", "_y", "_t")

    def __init__(self, cfg: Smoothing) -> None:
        self._cfg = cfg
        self._euro = OneEuroFilter(cfg.min_cutoff, cfg.beta, cfg.d_cutoff) if cfg.one_euro else None
        self._y: float | None = None
        self._t = 0.0

    def reset(self) -> None:
        self._y = None
        if self._euro is not None:
            self._euro.reset()

    def __call__(self, x: float, t_s: float) -> float:
        if self._euro is not None:
            return float(self._euro(x, t_s))
        if self._cfg.slew_s <= 0.0:
            return x
        if self._y is None:
            self._y, self._t = x, t_s
            return x
        dt = t_s - self._t
        if dt > 0.0:  # a repeated or backwards time keeps the last output
            self._y += (x - self._y) * -math.expm1(-dt / self._cfg.slew_s)
            self._t = t_s
        return self._y
