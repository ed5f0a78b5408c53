"""Phase lock: a paced render loop moves its ticks to just after the images arrive.

Without vsync (headless with video outputs, or a window with --no-vsync) the live clock paces itself at
a fixed rate, and nothing ties the phase of its ticks to the camera's: an image finished just after a
tick waits nearly a whole period to be drawn, one finished just before waits for none, and with a
steady camera that phase stays for the whole show (up to 16.7 ms of latency at 60 Hz, 8.3 on average).
Each fresh image reports how long it waited; the ticks move, a bounded step at a time, until the images
that come latest (a low quantile of the recent waits) still arrive just before a tick: a late image must
not pull every tick after it earlier, and most images then wait for only a millisecond or two. The rate
does not change (once locked a steady input needs no correction), so a receiver sees the same regular
frames. With vsync the display owns the phase and this is not used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PhaseLock:
    """period_s: the tick period; lag_s: how long after an image's arrival a tick should come (the
    hand-over and the program step before the image is picked up); quantile: which of the recent waits is
    held at lag_s (low: the latest images); window: how many recent images count; gain: the fraction of
    the error corrected per image; max_step: the largest correction of one tick, as a fraction of the period."""

    period_s: float
    lag_s: float = 0.001
    quantile: float = 0.2
    window: int = 16
    gain: float = 0.5
    max_step: float = 0.0625
    _errors: deque = field(default_factory=deque, init=False, repr=False)

    def _wrap(self, err: float) -> float:
        """An error of most of a period is an image that just missed the tick before: negative."""
        half = self.period_s / 2
        return (err + half) % self.period_s - half

    def correction(self, waited_s: float) -> float:
        """Seconds to add to the next tick's time, given how long a fresh image waited for this tick to pick
        it up. Negative: tick earlier (the latest images still wait more than lag_s); positive: later (too
        many just missed a tick and waited a whole period)."""
        self._errors.append(self._wrap(waited_s - self.lag_s))
        while len(self._errors) > self.window:
            self._errors.popleft()
        step = self.max_step * self.period_s
        c = max(-step, min(step, -self.gain * float(np.quantile(self._errors, self.quantile))))
        # the images already seen would have waited c longer with the moved tick
        self._errors = deque(self._wrap(e + c) for e in self._errors)
        return c
