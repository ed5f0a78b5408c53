"""BlockClock: when each block of a sound card's stream was captured, on the show's clock.

A block's capture time read in its callback is late by however long the callback waited to run (a busy
machine, a preempted thread: milliseconds, now and then far more), never early. The stream's samples
themselves come at the card's steady rate, so its origin (the time of sample 0) is the smallest
`capture time - samples before the block / rate` seen lately; a block is stamped origin + its first sample's
index / rate. One late callback then moves no stamp. The window keeps the origin following a card whose
clock runs slower than the computer's; one that runs faster lowers the minimum at once. A stream that lost
samples (an input overflow) or was opened anew starts a new origin (`reset`).
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 10.0  # a card 100 ppm slow is then stamped at most 1 ms early


class BlockClock:
    """Stamps consecutive blocks of one stream; `stamp(raw_t, frames)` returns the block's first-sample time."""

    def __init__(self, sample_rate: int, window_s: float = WINDOW_S) -> None:
        self.sample_rate = int(sample_rate)
        self.window_s = float(window_s)
        self._n = 0
        self._origins: deque[tuple[float, float]] = deque()  # (raw time, origin), origins increasing

    def reset(self) -> None:
        """The stream restarted or lost samples: what came before says nothing about what follows."""
        self._n = 0
        self._origins.clear()

    def stamp(self, raw_t: float, frames: int) -> float:
        """raw_t: the block's first sample as read in its callback (never early). Returns its capture time."""
        first = self._n
        origin = raw_t - first / self.sample_rate
        origins = self._origins
        while origins and origins[-1][1] >= origin:  # a sliding-window minimum: each origin enters and leaves once
            origins.pop()
        origins.append((raw_t, origin))
        while raw_t - origins[0][0] > self.window_s:
            origins.popleft()
        self._n += int(frames)
        return origins[0][1] + first / self.sample_rate
