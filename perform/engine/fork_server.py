"""Imported by the fork server alone (the first of its preload list): it ends at once when the show does.

The fork server (engine/inference_process.py) has imported torch and MediaPipe, so that a restarted child
costs loading a model rather than seconds of imports. When the show's process exits, the server reads the
end of its pipe and raises SystemExit; the interpreter's teardown of torch then took 1-3 s, and a stage
machine that stops a show and starts the next one found the old server still there. Its atexit handler
ends it without the teardown: it holds no files and no state. Children forked from it inherit the handler
and skip it (another pid); nothing else imports this module.
"""

from __future__ import annotations

import atexit
import os


def _exit_now(server_pid: int) -> None:
    if os.getpid() == server_pid:
        os._exit(0)


atexit.register(_exit_now, os.getpid())
