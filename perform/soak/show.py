"""ShowProcess: `perform live --headless` as a child process, watched through its status file.

A monitor thread reads the status file every POLL_S and keeps what the soak needs: every sample (time,
status) for the fault windows, how long the file went without changing (a hang), and whether the process
is still there (a crash). Signals go to the process as a terminal and a service manager send them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import perform
from perform.soak import procinfo
from perform.soak.orphans import dies_with_this_process

POLL_S = 0.05
START_TIMEOUT_S = 240.0  # importing torch and MediaPipe in two fresh interpreters on a busy 2-core machine
Status = dict[str, Any]


def _terminal_signals(die_with_soak: Callable[[], None]) -> Callable[[], None]:
    """For the show's process, between fork and exec: the signal dispositions a terminal would give it, and a
    SIGTERM (its clean stop) when the soak dies."""

    def preexec() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        die_with_soak()

    return preexec


@dataclass
class ShowFiles:
    workdir: Path
    setlist: Path
    shader_dir: Path
    stall_file: Path
    status_file: Path
    log_file: Path


@dataclass
class Stall:
    """A span in which the status file did not change while the process was alive."""

    start_s: float
    length_s: float


@dataclass
class ExitResult:
    signal: str
    sent_to: str
    exit_s: float | None      # None: still running after the timeout (then killed)
    returncode: int | None
    children_left: list[int] = field(default_factory=list)
    traceback_after_signal: bool = False
    clean: bool = False

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class ShowProcess:
    def __init__(self, files: ShowFiles, osc_port: int, live_args: list[str], hang_s: float = 2.0) -> None:
        self.files = files
        self.osc_port = osc_port
        self.hang_s = hang_s
        self._lock = threading.Lock()
        self._status: Status = {}
        self.samples: list[tuple[float, Status]] = []   # (time.time(), status) whenever it changed
        self.stalls: list[Stall] = []
        self.exited_at: float | None = None
        self._stop = threading.Event()
        files.status_file.unlink(missing_ok=True)
        env = dict(os.environ)
        root = str(Path(perform.__file__).resolve().parent.parent)  # this checkout's perform, not another install
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PERFORM_SHADER_DIR"] = str(files.shader_dir)
        cmd = [sys.executable, "-m", "perform", "live", str(files.setlist), "--headless", "--source", "synthetic",
               "--inference", "process", "--osc-port", str(osc_port), "--status-file", str(files.status_file),
               "--stall-file", str(files.stall_file), *live_args]
        self.command = cmd
        self._log = open(files.log_file, "ab")
        # its own session: Ctrl-C is delivered to the process group, as a terminal does. SIGINT and SIGHUP
        # reset to their defaults, as in a terminal: a soak started in the background (nohup, `&`) has them
        # ignored, the show would inherit that and rightly keep them ignored, and its Ctrl-C exit would go untested
        self.proc = subprocess.Popen(cmd, cwd=files.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_terminal_signals(dies_with_this_process(signal.SIGTERM)))
        self.pid = self.proc.pid
        self._monitor = threading.Thread(target=self._watch, name="soak-monitor", daemon=True)
        self._monitor.start()

    # -- watching ------------------------------------------------------------------------------------
    def _read(self) -> Status | None:
        try:
            return json.loads(self.files.status_file.read_text())
        except (OSError, ValueError):
            return None

    def _watch(self) -> None:
        last_change = time.time()
        stalled_since: float | None = None
        while not self._stop.is_set():
            now = time.time()
            if self.proc.poll() is not None:
                self.exited_at = now
                return
            st = self._read()
            if st is not None and st.get("wall_s") != self._status.get("wall_s"):
                with self._lock:
                    self._status = st
                    self.samples.append((now, st))
                if stalled_since is not None:
                    self.stalls.append(Stall(stalled_since, now - stalled_since))
                    stalled_since = None
                last_change = now
            elif self._status and stalled_since is None and now - last_change > self.hang_s:
                stalled_since = last_change
            self._stop.wait(POLL_S)
        if stalled_since is not None:
            self.stalls.append(Stall(stalled_since, time.time() - stalled_since))

    def status(self) -> Status:
        with self._lock:
            return dict(self._status)

    def samples_between(self, t0: float, t1: float) -> list[tuple[float, Status]]:
        with self._lock:
            return [(t, s) for t, s in self.samples if t0 <= t <= t1]

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_for(self, cond: Callable[[Status], bool], timeout_s: float) -> Status | None:
        """The first status (from now on) for which cond holds, or None at the timeout or if the show ended."""
        t_end = time.time() + timeout_s
        while time.time() < t_end and self.running():
            st = self.status()
            if st and cond(st):
                return st
            time.sleep(POLL_S)
        return None

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> Status | None:
        """Until the show has drawn frames with a generated image (models and tracker warmed up)."""
        return self.wait_for(lambda s: s.get("generated", 0) > 0 and s.get("frames_drawn", 0) > 0, timeout_s)

    def resources(self) -> list[dict]:
        return [s.as_dict() for s in procinfo.sample_tree(self.pid)]

    def log_text(self, start: int = 0) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            with open(self.files.log_file, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        if not self._log.closed:
            self._log.flush()
        return self.files.log_file.stat().st_size if self.files.log_file.exists() else 0

    # -- ending --------------------------------------------------------------------------------------
    def stop(self, sig: signal.Signals, clean_within_s: float = 2.0, timeout_s: float = 10.0) -> ExitResult:
        """Send sig (SIGINT to the process group, as Ctrl-C in a terminal; anything else to the main
        process, as `kill` does) and time the exit. Clean: gone within clean_within_s, exit status 0 or
        128+signal (the show handled it, instead of dying of it), no child left behind, no traceback."""
        kids = procinfo.children(self.pid)
        log_at = self.log_size()
        to_group = sig == signal.SIGINT
        t0 = time.monotonic()
        try:
            (os.killpg if to_group else os.kill)(self.pid, sig)
        except ProcessLookupError:
            pass
        try:
            rc = self.proc.wait(timeout_s)
            exit_s: float | None = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            exit_s, rc = None, None
            _kill_group(self.pid)
            self.proc.wait()
        # children get the rest of the clean-exit time, and at least a second after the main process, to go;
        # what is left is killed (and reported)
        left_by = max(t0 + clean_within_s, time.monotonic() + 1.0)
        while any(procinfo.alive(k) for k in kids) and time.monotonic() < left_by:
            time.sleep(POLL_S)
        left = [k for k in kids if procinfo.alive(k)]
        for k in left:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.close()
        res = ExitResult(sig.name, "process group" if to_group else "main process", exit_s, rc, left,
                         "Traceback" in self.log_text(log_at))
        res.clean = (exit_s is not None and exit_s <= clean_within_s and rc in (0, 128 + sig.value)
                     and not left and not res.traceback_after_signal)
        return res

    def close(self) -> None:
        """Stop watching; kill the show if it still runs (the harness's own cleanup, not a measured exit)."""
        self._stop.set()
        if self.proc.poll() is None:
            _kill_group(self.pid)
            self.proc.wait()
        self._monitor.join(2.0)
        self._log.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
