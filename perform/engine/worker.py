"""A worker thread that never dies: each step is guarded, errors are reported (rate-limited) and the
worker carries on after a short back-off, rebuilding its stage if a factory is given."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from perform.errors import CapturedError, ErrorReporter

log = logging.getLogger(__name__)


class Worker:
    """Runs `step()` in a loop on its own thread until `stop()`.

    step: one unit of work; it should block for at most ~0.1 s (wait on a Mailbox with a timeout) so that
      stop() is honoured promptly.
    on_error: called with the exception after it is reported (e.g. to rebuild a MediaPipe graph).
    """

    def __init__(self, name: str, step: Callable[[], None], reporter: ErrorReporter,
                 on_error: Callable[[BaseException], None] | None = None, backoff_s: float = 0.05) -> None:
        self.name = name
        self._step = step
        self._reporter = reporter
        self._on_error = on_error
        self._backoff_s = backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"perform-{name}", daemon=True)
        self.restarts = 0
        self.last_error: CapturedError | None = None

    def start(self) -> "Worker":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception as exc:  # the show goes on: record, report, back off, continue
                self.restarts += 1
                self.last_error = CapturedError.capture(exc)
                self._reporter.report(f"worker {self.name}", exc)
                # once stop() is called, recover nothing: a restart during shutdown would outlive the show
                if self._on_error is not None and not self._stop.is_set():
                    try:
                        self._on_error(exc)
                    except Exception as exc2:
                        self._reporter.report(f"worker {self.name} recovery", exc2)
                # back off a little more each time in a row, up to 1 s, so a hard failure does not spin a core
                self._stop.wait(min(1.0, self._backoff_s * min(self.restarts, 20)))

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float = 2.0) -> bool:
        """True if the thread ended within the timeout."""
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("worker %s did not stop within %.1f s", self.name, timeout_s)
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


def sleep_until(t_target: float, stop: threading.Event | None = None) -> None:
    """Sleep until perf_counter() reaches t_target (coarse sleep, then a short spin for precision)."""
    while True:
        remaining = t_target - time.perf_counter()
        if remaining <= 0:
            return
        if remaining > 0.002:
            if stop is not None:
                if stop.wait(remaining - 0.001):
                    return
            else:
                time.sleep(remaining - 0.001)
        # last millisecond: yield without oversleeping
        else:
            time.sleep(0)
