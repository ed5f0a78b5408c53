"""Fixtures for the whole suite: an X server (Xvfb) for tests that open a real window."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


@pytest.fixture
def xvfb_env():
    """The environment of a child process that opens windows on its own Xvfb; skips where there is no Xvfb.

    Xvfb writes its display number to -displayfd once it accepts connections: no polling for its socket.
    -noreset: by default the server resets when its last client leaves, and a connection made during the reset
    is refused; SDL opens the display, closes it and opens it again, so under load a window failed to open.
    """
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("no Xvfb binary to host a window (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "320x240x24", "-nolisten", "tcp",
                             "-noreset"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as ready:
            number = ready.readline().strip()  # blocks until the server is ready, or EOF if it exits
        assert number, "Xvfb exited at start"
        yield {**os.environ, "DISPLAY": f":{number}", "SDL_VIDEODRIVER": "x11", "SDL_AUDIODRIVER": "dummy"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
