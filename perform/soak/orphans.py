"""What the soak starts dies with it: a headless show (no --frames) or a CPU hog left behind by a soak that was
killed would otherwise run on for ever, loading the machine."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Callable

_PR_SET_PDEATHSIG = 1
_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not between fork and exec
    except OSError:
        _libc = None


def dies_with_this_process(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A preexec_fn: on Linux the child is sent `sig` when this process dies, however it dies (SIGKILL too);
    elsewhere it does nothing (the soak's own teardown still ends what it started)."""
    parent = os.getpid()

    def preexec() -> None:
        if _libc is None:
            return
        _libc.prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # it died before the request was made
            os.kill(os.getpid(), sig)

    return preexec
