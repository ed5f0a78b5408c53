"""OutputHub: the show's frames to several outputs at once, each on its own thread, none able to stall the show.

The render loop calls `submit(frame)` once a frame; it only puts the frame in each output's one-frame slot
(latest wins: a frame an output had not taken yet is replaced and counted as dropped) and returns. Each output's
thread opens its sink, sends the newest frame, and on any error closes it, notes why on the HUD and opens it
again after `retry_s`. A sink that blocks (a full socket, a stuck driver) holds up its own thread only: the
frames meanwhile are dropped and counted, the show goes on, and at the end it is left behind (a daemon thread)
rather than waited for.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Protocol, Sequence

import numpy as np

from perform.errors import ErrorReporter

log = logging.getLogger(__name__)


class FrameSink(Protocol):
    """One output. All three are called on the output's own thread, never on the render loop."""

    name: str

    def open(self) -> None: ...
    def send(self, frame: np.ndarray) -> None: ...  # (H, W, 3) uint8 RGB, top row first; read it, never write it
    def close(self) -> None: ...


class OutputWorker:
    """One sink behind a latest-wins slot and its own thread."""

    def __init__(self, sink: FrameSink, reporter: ErrorReporter | None = None, retry_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sink = sink
        self.name = sink.name
        self.retry_s = float(retry_s)
        self._clock = clock
        self._reporter = reporter or ErrorReporter(log)
        self._cond = threading.Condition()
        self._pending: np.ndarray | None = None
        self._stop = False
        self.submitted = 0
        self.sent = 0
        self.dropped = 0   # replaced in the slot before the thread took them (the output was slower than the show)
        self.failures = 0
        self.note = "opening"
        self.busy_since: float | None = None  # when the sink's current open or send began (None: idle)
        self._thread = threading.Thread(target=self._run, name=f"output {self.name}", daemon=True)

    def start(self) -> "OutputWorker":
        self._thread.start()
        return self

    def submit(self, frame: np.ndarray) -> None:
        """Called by the render loop: never waits on the sink."""
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._pending = frame
            self.submitted += 1
            self._cond.notify()

    def _take(self) -> np.ndarray | None:
        with self._cond:
            self._cond.wait_for(lambda: self._pending is not None or self._stop, 0.5)
            frame, self._pending = self._pending, None
            return None if self._stop else frame

    def _run(self) -> None:
        opened = False
        next_try = -float("inf")
        while not self._stop:
            frame = self._take()
            if frame is None:
                continue
            if not opened:
                if self._clock() < next_try:
                    self.dropped += 1  # waiting to retry: this frame goes nowhere
                    continue
                opened = self._call(self.sink.open, "open")
                if not opened:
                    next_try = self._clock() + self.retry_s
                    continue
            if self._call(lambda: self.sink.send(frame), "send"):
                self.sent += 1
                self.note = ""
            else:
                self._call(self.sink.close, "close")
                opened = False
                next_try = self._clock() + self.retry_s
        if opened:
            self._call(self.sink.close, "close")

    def _call(self, fn: Callable[[], None], what: str) -> bool:
        self.busy_since = self._clock()
        try:
            fn()
            return True
        except Exception as exc:  # the show never stops for an output: note it, retry later
            self.failures += 1
            self.note = f"{what} failed: {str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__}"
            self._reporter.report(f"output {self.name} {what}", exc)
            return False
        finally:
            self.busy_since = None

    def status(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        busy = self.busy_since
        note = self.note
        if busy is not None and now - busy > 1.0:
            note = f"blocked {now - busy:.0f} s"
        return f"{self.name}: sent {self.sent} dropped {self.dropped}" + (f" ({note})" if note else "")

    def close(self, timeout_s: float = 1.0) -> bool:
        """Stop the thread; a sink blocked past timeout_s is left behind (False), never waited for."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("output %s did not stop within %.1f s (blocked in its sink); left behind", self.name, timeout_s)
            return False
        return True


class OutputHub:
    """Several outputs fed the same frames. `submit` is the only call the render loop makes per frame."""

    def __init__(self, sinks: Sequence[FrameSink], reporter: ErrorReporter | None = None, retry_s: float = 2.0) -> None:
        self.workers = [OutputWorker(s, reporter, retry_s) for s in sinks]

    def __bool__(self) -> bool:
        return bool(self.workers)

    def start(self) -> "OutputHub":
        for w in self.workers:
            w.start()
        return self

    def submit(self, frame: np.ndarray) -> None:
        for w in self.workers:
            w.submit(frame)

    def hud_lines(self) -> list[str]:
        now = time.monotonic()
        return ["out " + "; ".join(w.status(now) for w in self.workers)] if self.workers else []

    def summary(self) -> str:
        return ", ".join(f"{w.name} sent {w.sent} dropped {w.dropped} failures {w.failures}" for w in self.workers)

    def close(self, timeout_s: float = 1.0) -> None:
        for w in self.workers:
            w.close(timeout_s)
