"""The soak: a headless live show for a set time, a fault every so often, and a report of how it coped.

The show runs as a child process on a copy of a setlist and of the shaders folder (so faults can break and
fix them) and writes its status file (perform/engine/status.py); every measure here comes from that file
and from /proc, never from inside the show. Linux only (/proc, process groups, SIGSTOP).
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import perform
from perform.errors import PerformError
from perform.render.shaders import find_shader_dir
from perform.soak import procinfo
from perform.soak.faults import FAULTS, Fault, FaultContext, make_faults
from perform.soak.report import verdict
from perform.soak.show import POLL_S, ShowFiles, ShowProcess, Status

SHIPPED_SETLIST = Path(perform.__file__).resolve().parent.parent / "setlists" / "demo.toml"
EXIT_WITHIN_S = 2.0


@dataclass
class SoakConfig:
    duration_s: float = 1800.0           # from the show being ready to the exit signal, warm-up included
    fault_every_s: float = 30.0
    faults: tuple[str, ...] = tuple(FAULTS)
    rounds: int | None = None            # stop injecting after this many rounds of the faults (None: never)
    hold_s: float = 5.0                  # how long a lasting fault (freeze, flood, stall, hog, bad save) lasts
    warmup_s: float = 60.0               # before the first fault; memory growth is measured from its end
    setlist: str | None = None           # default: the shipped demo (four scenes)
    size: tuple[int, int] = (640, 360)
    fps: float = 30.0
    exit_signals: tuple[str, ...] = ("INT", "TERM")
    workdir: str | None = None           # keep the copies, status and log here (default: a temp dir, removed)
    hang_s: float = 2.0                  # the status file unchanged this long while the show runs: a hang
    live_args: tuple[str, ...] = ()      # more `perform live` options

    def check(self) -> None:
        longest = max((f.takes_s(self.hold_s) + f.deadline_s for f in make_faults(list(self.faults))), default=0.0)
        if self.faults and self.fault_every_s < longest + 0.5:
            raise PerformError(f"--fault-every-s {self.fault_every_s:g} is shorter than a fault and its recovery "
                               f"deadline ({longest:g} s + 0.5)")
        if self.duration_s < self.warmup_s:
            raise PerformError("--duration-s is shorter than the warm-up")


QUICK = {"duration_s": 64.0, "fault_every_s": 7.0, "hold_s": 3.5, "warmup_s": 4.0, "rounds": 1}


# -- preparing the files the faults break --------------------------------------------------------------
@dataclass
class Prepared:
    files: ShowFiles
    setlist_text: str
    shader_file: Path
    shader_text: str
    scenes: tuple[str, ...]


def prepare(setlist: str | None, workdir: Path) -> Prepared:
    """Copy the setlist's folder (without recordings and videos) and the shaders folder into workdir."""
    src = Path(setlist).resolve() if setlist else SHIPPED_SETLIST
    if not src.is_file():
        raise PerformError(f"setlist {src} not found" + ("" if setlist else " (the soak runs from a clone; or pass --setlist)"))
    shutil.copytree(src.parent, workdir / "setlist", ignore=shutil.ignore_patterns(
        "sessions", "*.mp4", "*.mov", "*.mkv", "*.wav", "*.partial"), dirs_exist_ok=True)
    shader_dir = workdir / "shaders"
    shutil.copytree(find_shader_dir(), shader_dir, dirs_exist_ok=True)
    path = workdir / "setlist" / src.name
    text = path.read_text()
    data = tomllib.loads(text)
    scenes = tuple(str(s.get("name", i)) for i, s in enumerate(data.get("scene", [])))
    types = [sh.get("type", "") for s in data.get("scene", []) for sh in s.get("shader", [])]
    shader_file = next((shader_dir / f"{t}.frag" for t in types if (shader_dir / f"{t}.frag").is_file()),
                       shader_dir / "display.frag")
    files = ShowFiles(workdir, path, shader_dir, workdir / "camera.stall", workdir / "status.json",
                      workdir / "show.log")
    return Prepared(files, text, shader_file, shader_file.read_text(), scenes)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- one fault -----------------------------------------------------------------------------------------
@dataclass
class FaultResult:
    name: str
    at_s: float                    # fault start, from the show being ready
    lasted_s: float                # start to end (the hold, or how long the injection took)
    recovered: bool                # within the deadline after the end
    deadline_s: float
    recovery_s: float | None       # end -> first new image once nothing was wrong any more (None: not seen)
    first_image_s: float | None    # end -> first new image at all
    longest_image_gap_s: float     # between two generated images, from the fault's start to recovery
    images_during: int
    frames_dropped: int            # display frames missed from the start to recovery (or the watch's end)
    noticed: bool | None           # the show saw the fault (None: the status cannot tell)
    problem: str | None            # what was still wrong at the deadline
    notes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None       # the injection itself failed

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _sleep_until(t: float, show: ShowProcess) -> bool:
    """Sleep until time.time() reaches t; False at once if the show ended."""
    while time.time() < t:
        if not show.running():
            return False
        time.sleep(min(POLL_S * 2, max(0.0, t - time.time())))
    return show.running()


def _await_recovery(show: ShowProcess, fault: Fault, before: Status, notes: dict, t_end: float,
                    watch_end: float) -> tuple[float | None, float, str | None]:
    """(when the first new image arrived once nothing was wrong, or None; when that was seen; what was
    still wrong otherwise), watching the show's status from t_end until watch_end."""
    cleared_at = None
    problem: str | None = "no status after the fault"
    seen = 0
    while time.time() < watch_end and show.running():
        new = show.samples_between(t_end, time.time())[seen:]
        seen += len(new)
        for t_seen, st in new:
            problem = fault.problem(before, st, notes)
            if problem is not None:
                cleared_at = None
                continue
            cleared_at = cleared_at or st["wall_s"]
            g = st.get("generated_wall_s") or 0.0
            if g > max(t_end, cleared_at):
                return g, t_seen, None
            problem = "no new image yet"
        time.sleep(POLL_S)
    return None, time.time(), problem


def run_fault(show: ShowProcess, ctx: FaultContext, fault: Fault, hold_s: float, t_ready: float,
              watch_until: float) -> FaultResult:
    ctx.notes = {}
    before = show.status()
    t_start = time.time()
    error = None
    try:
        fault.start(ctx, hold_s)
        if fault.holds():
            _sleep_until(t_start + hold_s, show)
    except Exception as exc:  # noqa: BLE001 - reported in the result, and the soak carries on
        error = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            fault.end(ctx)
        except Exception as exc:  # noqa: BLE001
            error = (error + "; " if error else "") + f"end: {type(exc).__name__}: {exc}"
    t_end = time.time()
    deadline = t_end + fault.deadline_s
    # watched until the next fault: a late recovery is measured, and reported as late
    recovered_at, t_stop, problem = _await_recovery(show, fault, before, ctx.notes, t_end, max(watch_until, deadline))
    during = [s for _, s in show.samples_between(t_start, t_end)]
    window = [s for _, s in show.samples_between(t_start, t_stop)]
    images = sorted({s["generated_wall_s"] for s in [before, *window] if s.get("generated_wall_s")})
    after = [g for g in images if g > t_end]
    # time without a new image inside the window (a gap that began before the fault counts from its start)
    gaps = [b - max(a, t_start) for a, b in zip(images, images[1:]) if b > t_start]
    if images and recovered_at is None:
        gaps.append(t_stop - max(images[-1], t_start))
    last = window[-1] if window else before
    return FaultResult(
        name=fault.name, at_s=round(t_start - t_ready, 2), lasted_s=round(t_end - t_start, 2),
        recovered=recovered_at is not None and recovered_at <= deadline, deadline_s=fault.deadline_s,
        recovery_s=round(recovered_at - t_end, 3) if recovered_at else None,
        first_image_s=round(after[0] - t_end, 3) if after else None,
        longest_image_gap_s=round(max(gaps, default=0.0), 3),
        images_during=(during[-1]["generated"] - before.get("generated", 0)) if during and before else 0,
        frames_dropped=last.get("frames_missed", 0) - before.get("frames_missed", 0),
        noticed=fault.noticed(before, during), problem=problem,
        notes=dict(ctx.notes), error=error)


# -- the soak ------------------------------------------------------------------------------------------
def _rate(a: Status, b: Status, key: str) -> float | None:
    dt = b.get("wall_s", 0) - a.get("wall_s", 0)
    return round((b.get(key, 0) - a.get(key, 0)) / dt, 2) if dt > 0 else None


def _main_rss(resources: list[dict]) -> int | None:
    return next((r["rss_kb"] for r in resources if r["role"] == "main"), None)


def run_soak(cfg: SoakConfig, say: Callable[[str], None] = print) -> dict:
    """Run the soak; returns the report (perform/soak/report.py prints it)."""
    cfg.check()
    if not procinfo.available():
        raise PerformError("perform soak reads /proc: it runs on Linux only")
    tmp = None
    if cfg.workdir:
        workdir = Path(cfg.workdir)
        try:
            workdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PerformError(f"--workdir {cfg.workdir}: cannot make that folder ({e.strerror or e})") from None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="perform-soak-")
        workdir = Path(tmp.name)
    prep = prepare(cfg.setlist, workdir)
    live_args = ["--size", f"{cfg.size[0]}x{cfg.size[1]}", "--fps", f"{cfg.fps:g}", *cfg.live_args]
    report: dict[str, Any] = {"config": dataclasses.asdict(cfg), "faults": [], "exits": [], "crash": None,
                              "hangs": [], "setlist": str(prep.files.setlist), "shader_file": prep.shader_file.name}
    show = None
    try:
        show = ShowProcess(prep.files, free_udp_port(), live_args, cfg.hang_s)
        report["command"] = show.command
        say(f"perform soak: starting the show (pid {show.pid}); log {prep.files.log_file}")
        t_launch = time.time()
        ready = show.wait_ready()
        if ready is None:
            report["crash"] = {"when": "start", "returncode": show.proc.poll(), "log_tail": show.log_text()[-3000:]}
            return _finish(report, show)
        t_ready = time.time()
        report["startup_s"] = round(t_ready - t_launch, 1)
        report["resources"] = {"start": show.resources()}
        say(f"perform soak: show ready after {report['startup_s']} s; {cfg.duration_s:g} s with "
            f"{len(cfg.faults)} fault kind(s) every {cfg.fault_every_s:g} s after {cfg.warmup_s:g} s warm-up")
        ctx = FaultContext(show.pid, show.osc_port, prep.files.setlist, prep.setlist_text, prep.shader_file,
                           prep.shader_text, prep.files.stall_file, prep.scenes, show.status, show.wait_for)
        faults = make_faults(list(cfg.faults))
        t_warm = t_ready + cfg.warmup_s
        t_stop = t_ready + cfg.duration_s
        if not _sleep_until(t_warm, show):
            return _crashed(report, show, t_ready)
        warm = show.status()
        report["baseline"] = {"frames_missed_per_s": _rate(ready, warm, "frames_missed"),
                              "images_per_s": _rate(ready, warm, "generated"),
                              "frames_per_s": _rate(ready, warm, "frames_drawn")}
        report["resources"]["warm"] = show.resources()
        rss_series = [(round(time.time() - t_ready, 1), _main_rss(report["resources"]["warm"]))]
        schedule = []  # (time, fault): in turn, while a fault and its deadline fit before the end
        for k in range(len(faults) * (cfg.rounds or 1_000_000)):
            t_fault, fault = t_warm + k * cfg.fault_every_s, faults[k % len(faults)]
            if t_fault + fault.takes_s(cfg.hold_s) + fault.deadline_s > t_stop:
                break
            schedule.append((t_fault, fault))
        for k, (t_fault, fault) in enumerate(schedule):
            if not _sleep_until(t_fault, show):
                return _crashed(report, show, t_ready)
            watch_until = schedule[k + 1][0] - 0.2 if k + 1 < len(schedule) else t_stop
            res = run_fault(show, ctx, fault, cfg.hold_s, t_ready, watch_until)
            report["faults"].append(res.as_dict())
            say(_fault_line(res))
            rss_series.append((round(time.time() - t_ready, 1), _main_rss(show.resources())))
            if not show.running():
                return _crashed(report, show, t_ready)
        if not _sleep_until(t_stop, show):
            return _crashed(report, show, t_ready)
        report["resources"]["end"] = show.resources()
        rss_series.append((round(time.time() - t_ready, 1), _main_rss(report["resources"]["end"])))
        report["resources"]["main_rss_series"] = rss_series
        report["ran_s"] = round(time.time() - t_ready, 1)
        report["status_end"] = show.status()
        signals = [signal.Signals[f"SIG{s}"] for s in cfg.exit_signals]
        report["hangs"] = [dataclasses.asdict(s) for s in show.stalls]
        report["tracebacks"] = show.log_text().count("Traceback")
        if signals:
            report["exits"].append(_exit(show, signals[0], say))
            show = None
            for sig in signals[1:]:  # a fresh show for each further signal: one process ends once
                show = ShowProcess(dataclasses.replace(prep.files, status_file=workdir / f"status-{sig.name}.json"),
                                   free_udp_port(), live_args, cfg.hang_s)
                if show.wait_ready() is None:
                    report["exits"].append({"signal": sig.name, "error": "the show did not start"})
                else:
                    time.sleep(1.0)
                    report["exits"].append(_exit(show, sig, say))
                show = None
        return _finish(report, show)
    finally:
        if show is not None:
            show.close()
        # leave the copies as they were, whatever happened
        prep.files.stall_file.unlink(missing_ok=True)
        prep.files.setlist.write_text(prep.setlist_text)
        prep.shader_file.write_text(prep.shader_text)
        if tmp is not None:
            tmp.cleanup()


def _exit(show: ShowProcess, sig: signal.Signals, say: Callable[[str], None]) -> dict:
    res = show.stop(sig, EXIT_WITHIN_S)
    say(f"perform soak: {sig.name} -> "
        + (f"exit after {res.exit_s:.2f} s, status {res.returncode}" if res.exit_s is not None else "no exit (killed)")
        + (f", children left {res.children_left}" if res.children_left else "")
        + (", traceback" if res.traceback_after_signal else "") + (" (clean)" if res.clean else " (NOT clean)"))
    return res.as_dict()


def _crashed(report: dict, show: ShowProcess, t_ready: float) -> dict:
    report["crash"] = {"when": "soak", "at_s": round((show.exited_at or time.time()) - t_ready, 1),
                       "returncode": show.proc.poll(), "log_tail": show.log_text()[-3000:]}
    report["hangs"] = [dataclasses.asdict(s) for s in show.stalls]
    report["tracebacks"] = show.log_text().count("Traceback")
    return _finish(report, show)


def _finish(report: dict, show: ShowProcess | None) -> dict:
    if show is not None:
        show.close()
    report["verdict"] = verdict(report)
    return report


def _fault_line(r: FaultResult) -> str:
    rec = (f"recovered in {r.recovery_s:.2f} s" if r.recovered else
           f"NOT recovered within {r.deadline_s:g} s" + (f" (late: {r.recovery_s:.2f} s)" if r.recovery_s else "")
           + (f": {r.problem}" if r.problem else ""))
    return (f"  {r.at_s:7.1f} s  {r.name:<10} {rec}; dropped {r.frames_dropped} frames, longest image gap "
            f"{r.longest_image_gap_s:.2f} s" + (f"; error {r.error}" if r.error else ""))
