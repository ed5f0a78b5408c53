"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012): low jitter at rest, low lag in motion.

Vector-valued and driven by the caller's timestamps (no wall clock inside), so the fixed clock gets the same
output for the same inputs and times.
"""

from __future__ import annotations

import math

import numpy as np


def smoothing_factor(dt_s: float, cutoff_hz: np.ndarray | float) -> np.ndarray | float:
    """alpha of an exponential smoother with the given cutoff, for a step of dt_s."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Filters a vector signal x(t).

    min_cutoff: cutoff (Hz) at rest; lower = less jitter, more lag.
    beta: how fast the cutoff rises with speed (per unit of x per second); higher = less lag in motion.
    d_cutoff: cutoff (Hz) of the smoother of the derivative.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f"OneEuroFilter needs min_cutoff > 0, d_cutoff > 0, beta >= 0 "
                             f"(got {min_cutoff}, {d_cutoff}, {beta})")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @property
    def value(self) -> np.ndarray | None:
        """The last filtered value (None before the first sample)."""
        return None if self._x is None else self._x.copy()

    def reset(self, x: np.ndarray | None = None, t_s: float | None = None) -> None:
        """Forget the history; with x, start again from that value (zero speed) at time t_s."""
        self._x = None if x is None else np.array(x, dtype=np.float64)
        self._dx = None if x is None else np.zeros_like(self._x)
        self._t = t_s if x is not None else None

    def __call__(self, x: np.ndarray | float, t_s: float) -> np.ndarray:
        """Filter one sample taken at time t_s (seconds, any origin, increasing)."""
        x = np.array(x, dtype=np.float64)
        if self._x is None or self._t is None:
            self.reset(x, t_s)
            return x.copy()
        dt = t_s - self._t
        if not dt > 0:  # repeated or out-of-order timestamp (also NaN): keep the last output
            return self._x.copy()
        dx = (x - self._x) / dt
        self._dx = self._dx + smoothing_factor(dt, self.d_cutoff) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x = self._x + smoothing_factor(dt, cutoff) * (x - self._x)
        self._t = t_s
        return self._x.copy()
