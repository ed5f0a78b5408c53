"""Pacer: the live clock of a source that makes its own frames (synthetic, video file) at a frame rate."""

from __future__ import annotations

import threading
import time


class Pacer:
    """Frame n is due at start + n/fps on time.perf_counter; the clock starts at the first wait.

    A reader slower than fps skips to the newest due frame, as a live camera would: latency cannot grow.
    """

    def __init__(self, fps: float, stop: threading.Event) -> None:
        self.fps = float(fps)
        self._stop = stop
        self.t0: float | None = None

    def wait_next(self, first_allowed: int, timeout_s: float) -> int | None:
        """Wait until the frame number >= first_allowed that is due next; None (after timeout_s) if none is
        due within the timeout, or if stopped."""
        now = time.perf_counter()
        if self.t0 is None:
            self.t0 = now
        n = max(first_allowed, int((now - self.t0) * self.fps))
        due = self.t0 + n / self.fps
        if due - now > timeout_s:
            self._stop.wait(timeout_s)
            return None
        if due > now:
            self._stop.wait(due - now)
        return None if self._stop.is_set() else n

    def frames_elapsed(self) -> int:
        """How many frames have come due since the start (0 before it)."""
        return 0 if self.t0 is None else int((time.perf_counter() - self.t0) * self.fps)
