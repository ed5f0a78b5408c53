"""One stop path for a run: SIGINT, SIGTERM and SIGHUP set a stop request that the frame loop reads.

A Python signal handler runs on the main thread between two bytecodes; raising KeyboardInterrupt there
unwinds whatever was running (a GL call, a join on a worker, the recorder's close) and skips the end of
the run. Setting a flag instead lets the loop finish its frame and end as a run ended by --frames does:
workers joined, files finished, summary printed. A second signal while stopping ends the process at once
(exit 128 + signal number), for a shutdown that hangs; a recording is still replayable after that (it is
flushed every second and repaired when opened).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopRequest:
    """Set once, by a signal or by code; read by loops at frame boundaries. `signal_name` says why."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None

    def request(self, signum: int | None = None) -> None:
        if not self._event.is_set():
            self.signum = signum
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        """For waits that should end early on a stop (worker.sleep_until)."""
        return self._event

    @property
    def signal_name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum is not None else None

    @property
    def exit_code(self) -> int:
        """The shell's convention for 'ended by a signal': 128 + its number (130 for SIGINT)."""
        return 128 + (self.signum or 0)


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest, signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[StopRequest]:
    """While inside, the given signals request a stop instead of killing the process or raising
    KeyboardInterrupt; the previous handlers come back on leaving.

    A signal the process inherited as ignored stays ignored (`nohup` ignores SIGHUP, a shell's background
    job ignores SIGINT: the user asked for that). Off the main thread Python cannot install handlers, and
    nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame) -> None:
        if stop.is_set():  # a second signal: the shutdown is taking too long for the user
            _say(f"{signal.Signals(signum).name} again: quitting at once")
            os._exit(128 + signum)
        stop.request(signum)
        _say(f"{signal.Signals(signum).name}: stopping (finishing the frame and the files)")

    previous: dict[int, object] = {}
    try:
        for sig in signals:
            old = signal.getsignal(sig)
            if old == signal.SIG_IGN:
                continue
            previous[sig] = old
            signal.signal(sig, handler)
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]


def _say(text: str) -> None:
    # os.write, not print: the handler may interrupt a print on this same thread (print is not reentrant)
    try:
        os.write(2, f"\n{text}\n".encode())
    except OSError:  # SIGHUP: the terminal may be gone; raising here would surface wherever the main thread was
        pass
