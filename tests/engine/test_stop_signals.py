"""Ending a run from outside: SIGTERM, SIGHUP and SIGINT stop `perform live` / `perform rehearse` through one
stop path (files finished, summary printed); SIGKILL still leaves a recording that replays."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest

from perform.session import load_session

ROOT = Path(__file__).resolve().parents[2]
EXIT_S = 20.0  # a hang guard, not a timing: the 2 s target is measured by `perform soak`, not asserted

pytestmark = pytest.mark.gl


class Run:
    """`python -m perform ...` in a subprocess, its output collected by threads (a full pipe cannot stall it)."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "perform", *args], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=self.out.extend, args=(self.proc.stdout,), daemon=True),
                         threading.Thread(target=self.err.extend, args=(self.proc.stderr,), daemon=True)]
        for t in self._threads:
            t.start()

    def wait_for(self, what: str, ready, timeout_s: float = 240.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"ended (rc {self.proc.returncode}) before {what}:\n{''.join(self.err)[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"no {what} within {timeout_s:.0f} s")
            time.sleep(0.05)

    def stop(self, sig: int) -> float:
        """Send `sig`; returns the seconds until the process ended (fails past EXIT_S)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(EXIT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {EXIT_S} s after {signal.Signals(sig).name}")
        for t in self._threads:
            t.join(5.0)
        return time.monotonic() - t0

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)


def _flushed_rows(d: Path) -> int:
    try:
        return json.loads((d / "manifest.json").read_text())["frames"]
    except (OSError, ValueError, KeyError):
        return 0


def _show_on_disk(d: Path) -> bool:
    """About a second of show recorded: the crops video (some 600 bytes a frame) has grown past 20 KB."""
    try:
        return (d / "crops.mp4").stat().st_size >= 20_000
    except OSError:
        return False


def _live(d: Path, *extra: str) -> Run:
    return Run("live", "--headless", "--source", "synthetic", "--osc-port", "0", "--size", "160x90",
               "--record", str(d), *extra)


def _decoded_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.parametrize("sig, extra", [(signal.SIGTERM, ()), (signal.SIGHUP, ("--inference", "thread"))],
                         ids=["SIGTERM", "SIGHUP"])
def test_a_signal_closes_the_recording_like_the_end_of_a_show(tmp_path, sig, extra):
    d = tmp_path / "take"
    run = _live(d, *extra)
    run.wait_for("a second of show on disk", lambda: _show_on_disk(d))
    run.stop(sig)
    assert run.proc.returncode == 0, run.stderr[-3000:]
    assert f"stopped by {signal.Signals(sig).name}" in run.stdout
    assert "Traceback" not in run.stderr
    session = load_session(d)
    assert session.manifest.complete and session.repairs == ()
    assert len(session.faces) >= 20
    out = tmp_path / "x.mp4"
    r = subprocess.run([sys.executable, "-m", "perform", "rehearse", "--session", str(d), "--out", str(out),
                        "--size", "64x64", "--no-progress", "--inference", "thread"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert _decoded_frames(out) == session.frame_count


def test_sigint_ends_the_run_with_its_summary_and_stats_json(tmp_path):
    d = tmp_path / "take"
    stats = tmp_path / "stats.json"
    run = _live(d, "--stats-json", str(stats))
    run.wait_for("a second of show on disk", lambda: _show_on_disk(d))
    run.stop(signal.SIGINT)
    assert run.proc.returncode == 0, run.stderr[-3000:]
    assert "stopped by SIGINT" in run.stdout and "p95" in run.stdout  # the timing summary
    assert "Traceback" not in run.stderr and "KeyboardInterrupt" not in run.stderr
    data = json.loads(stats.read_text())
    assert data["stages"]["frame"]["n"] > 0
    assert load_session(d).manifest.complete


def test_sigkill_leaves_a_recording_that_replays_up_to_its_last_second(tmp_path):
    d = tmp_path / "take"
    run = _live(d, "--inference", "thread")
    run.wait_for("60 face rows flushed", lambda: _flushed_rows(d) >= 60)
    flushed = _flushed_rows(d)  # on disk when the process dies
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(EXIT_S)
    session = load_session(d)
    assert not session.manifest.complete
    assert session.repairs and "did not close" in session.repairs[0]
    # everything flushed is there but the newest crop: the muxer writes a frame when the next one arrives
    assert len(session.faces) >= flushed - 1 >= 59
    assert session.faces.crops.shape[0] == len(session.faces)
    out = tmp_path / "x.mp4"
    r = subprocess.run([sys.executable, "-m", "perform", "rehearse", "--session", str(d), "--out", str(out),
                        "--size", "64x64", "--no-progress", "--inference", "thread"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "did not close" in r.stderr  # the repair is reported
    assert _decoded_frames(out) == session.frame_count


def test_sigterm_mid_render_keeps_the_previous_output(tmp_path):
    out = tmp_path / "show.mp4"
    out.write_bytes(b"the render from yesterday")
    partial = tmp_path / "show.mp4.partial"
    run = Run("rehearse", "--synthetic", "--to", "120", "--size", "64x64", "--out", str(out), "--no-progress",
              "--inference", "thread")
    run.wait_for("frames in the partial render", lambda: partial.exists() and partial.stat().st_size > 20_000)
    run.stop(signal.SIGTERM)
    assert run.proc.returncode == 128 + signal.SIGTERM, run.stderr[-3000:]
    assert out.read_bytes() == b"the render from yesterday"
    assert not partial.exists()
    assert "stopped by SIGTERM" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_stop_on_signals_sets_the_request_keeps_ignored_signals_and_restores_handlers():
    from perform.engine.stop import StopRequest, stop_on_signals

    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    term_before = signal.getsignal(signal.SIGTERM)
    try:
        stop = StopRequest()
        with stop_on_signals(stop):
            os.kill(os.getpid(), signal.SIGHUP)  # ignored: the user asked for that
            assert not stop.is_set()
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at the next bytecode, on this thread
            for _ in range(1000):
                if stop.is_set():
                    break
            assert stop.is_set() and stop.signal_name == "SIGTERM" and stop.exit_code == 143
        assert signal.getsignal(signal.SIGTERM) is term_before
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)
