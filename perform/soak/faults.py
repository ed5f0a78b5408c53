"""The faults a soak injects into a running show, each through a public way in: a signal to a process, UDP
datagrams, a file saved, a busy process beside it.

A fault has three parts: `start` (break something; it may take a while, e.g. a flood runs for its hold),
`end` (undo it: the show has to come back on its own after that), and `problem(before, now)`, the check on
the show's status file that says what is still wrong (None: recovered). `noticed(during)` says whether the
show saw the fault while it lasted (a refused setlist, a lost camera), where that is observable.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from perform.errors import PerformError
from perform.soak.orphans import dies_with_this_process

Status = dict[str, Any]


@dataclass
class FaultContext:
    """What a fault may touch: the show's pid and ports, and the files it was started with."""

    show_pid: int
    osc_port: int
    setlist: Path
    setlist_text: str
    shader_file: Path       # the fragment shader the broken-shader fault breaks (a temp copy the show loads)
    shader_text: str
    stall_file: Path
    scenes: tuple[str, ...]
    status: Callable[[], Status]                                       # the newest status
    wait_for: Callable[[Callable[[Status], bool], float], Status | None]  # until true, or None at timeout
    notes: dict[str, Any] = field(default_factory=dict)                # what the fault did, for the report


class Fault:
    name = ""
    deadline_s = 2.0   # after `end`, the show must have recovered within this

    def start(self, ctx: FaultContext, hold_s: float) -> None:
        """Break something. Returns when the fault is in place (or, for a flood, when it is over)."""

    def end(self, ctx: FaultContext) -> None:
        """Undo what start did; must be safe to call if start failed half-way."""

    def noticed(self, before: Status, during: list[Status]) -> bool | None:
        """Did the show see it? None where the status cannot tell."""
        return None

    def problem(self, before: Status, now: Status, notes: dict[str, Any]) -> str | None:
        """What is still wrong compared with before the fault (notes: what start and end did); None when
        recovered."""
        return None

    def holds(self) -> bool:
        """Whether the harness keeps the fault in place for the hold time between start and end."""
        return True

    def takes_s(self, hold_s: float) -> float:
        """About how long start to end lasts."""
        return hold_s


class KillInference(Fault):
    """SIGKILL the inference child: the show has to start a new one and show a new image within 5 s."""

    name = "kill"
    deadline_s = 5.0

    def start(self, ctx, hold_s):
        pid = ctx.status().get("infer_pid")
        ctx.notes["killed_pid"] = pid
        if pid:
            os.kill(pid, signal.SIGKILL)

    def holds(self):
        return False

    def takes_s(self, hold_s):
        return 0.0

    def problem(self, before, now, notes):
        if now.get("infer_pid") in (None, before.get("infer_pid")):
            return "no new inference process"
        return None


class FreezeInference(Fault):
    """SIGSTOP the inference child for the hold, then SIGCONT.

    A real hang does not end with a SIGCONT (that is the harness tidying up), so this counts as recovered
    only once the show has replaced the frozen process and a new image came; a show that waited for it to
    resume is reported as not recovered.
    """

    name = "freeze"

    def problem(self, before, now, notes):
        if notes.get("frozen_pid") and now.get("infer_pid") == notes["frozen_pid"]:
            return "the frozen inference process was not replaced (the show waited for it to resume)"
        return None

    def start(self, ctx, hold_s):
        pid = ctx.status().get("infer_pid")
        ctx.notes["frozen_pid"] = pid
        if pid:
            os.kill(pid, signal.SIGSTOP)

    def end(self, ctx):
        pid = ctx.notes.get("frozen_pid")
        if pid:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:  # a watchdog ended it: fine
                ctx.notes["frozen_pid_gone"] = True


def garbage_datagrams(rng: random.Random) -> list[bytes]:
    """One round of bad input: noise, truncated packets, wrong types, unknown and far-future messages, and
    some valid values (a flood of good data is a flood too)."""
    # start-up: this module is read by `perform --help` (the list of faults); python-osc only when a fault runs
    from perform.control.osc_codec import encode_message

    valid = encode_message("/perform/latent/0", (rng.random(),))
    bundle_far = b"#bundle\0" + struct.pack(">II", 0xFFFFFFF0, 0) + struct.pack(">i", len(valid)) + valid
    return [
        rng.randbytes(rng.randint(1, 1400)),
        valid[: rng.randint(1, len(valid) - 1)],
        encode_message("/perform/latent/0", ("not a number",)),
        encode_message("/perform/mix", (float("nan"),)),
        encode_message(f"/perform/nope/{rng.randint(0, 10**6)}", (1.0,)),
        encode_message("/perform/in/fader1", (rng.uniform(-1e9, 1e9),)),
        b"#bundle\0" + rng.randbytes(rng.randint(0, 64)),
        bundle_far,
        valid,
        encode_message("/perform/shader/*/*", (rng.random(),)),
    ]


class OSCFlood(Fault):
    """As many datagrams as one sender manages, for the hold, to the show's OSC port: mostly garbage."""

    name = "osc-flood"

    def start(self, ctx, hold_s):
        rng = random.Random(1234)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = blocked = 0
        t_end = time.monotonic() + hold_s
        try:
            while time.monotonic() < t_end:
                for d in garbage_datagrams(rng):
                    try:
                        sock.sendto(d, ("127.0.0.1", ctx.osc_port))
                        sent += 1
                    except OSError:  # the receiver's buffer is full: that is the flood working
                        blocked += 1
        finally:
            sock.close()
        ctx.notes.update(sent=sent, send_failed=blocked)

    def holds(self):
        return False  # start() ran for the hold

    def noticed(self, before, during):
        return bool(during) and during[-1].get("osc_dropped", 0) > before.get("osc_dropped", 0)


class BrokenSetlist(Fault):
    """Save a setlist that does not parse, then the good one again: the show keeps the last good one, says
    so, and swaps the good one in."""

    name = "setlist"

    def start(self, ctx, hold_s):
        ctx.setlist.write_text(ctx.setlist_text + "\n[[scene]\nname = \"half-typed\n")

    def end(self, ctx):
        ctx.setlist.write_text(ctx.setlist_text)

    def noticed(self, before, during):
        return any(s.get("setlist_failures", 0) > before.get("setlist_failures", 0) for s in during)

    def problem(self, before, now, notes):
        if now.get("reload_error"):
            return f"setlist error still shown: {now['reload_error']}"
        if now.get("setlist_reloads", 0) <= before.get("setlist_reloads", 0):
            return "the good setlist was not swapped in"
        return None


class BrokenShader(Fault):
    """Save a fragment shader that does not compile, then restore it: the last good program stays, and the
    restored file compiles again."""

    name = "shader"

    def start(self, ctx, hold_s):
        ctx.notes["file"] = ctx.shader_file.name
        ctx.shader_file.write_text(ctx.shader_text + "\nthis is not GLSL;\n")

    def end(self, ctx):
        ctx.shader_file.write_text(ctx.shader_text)

    def noticed(self, before, during):
        return any(s.get("shader_errors", 0) > 0 for s in during)

    def problem(self, before, now, notes):
        return f"{now['shader_errors']} shader(s) still failing" if now.get("shader_errors") else None


class CameraStall(Fault):
    """The camera delivers nothing for the hold (the synthetic source's stall file), then frames again."""

    name = "camera"

    def start(self, ctx, hold_s):
        ctx.stall_file.touch()

    def end(self, ctx):
        ctx.stall_file.unlink(missing_ok=True)

    def noticed(self, before, during):
        return any(s.get("source_status") == "lost" for s in during)

    def problem(self, before, now, notes):
        if now.get("source_status") != "ok":
            return f"source {now.get('source_status')}"
        if now.get("face_index", -1) <= max(before.get("face_index", -1), 0):
            return "no new camera frame tracked"
        return None


class SceneChanges(Fault):
    """/perform/scene/go to every scene by name and by index, then to a name and an index that do not exist:
    each real one must become the scene, the others must change nothing (and be answered with an error)."""

    name = "scenes"

    def start(self, ctx, hold_s):
        # start-up: this module is read by `perform --help` (the list of faults); python-osc only when a fault runs
        from perform.control.osc_codec import encode_message

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))  # replies come back to this port
        sock.settimeout(0.2)
        reached, missed = [], []
        step_s = max(0.3, hold_s / max(1, 2 * len(ctx.scenes)))
        try:
            for target in [*ctx.scenes, *range(len(ctx.scenes))]:
                name = target if isinstance(target, str) else ctx.scenes[target]
                sock.sendto(encode_message("/perform/scene/go", (target,)), ("127.0.0.1", ctx.osc_port))
                ok = ctx.wait_for(lambda s, n=name: s.get("scene") == n, 2.0) is not None
                (reached if ok else missed).append(target)
                time.sleep(step_s)
            ctx.notes["expected_scene"] = ctx.status().get("scene")
            refused = []
            for bad in ("no-such-scene", len(ctx.scenes) + 97):
                sock.sendto(encode_message("/perform/scene/go", (bad,)), ("127.0.0.1", ctx.osc_port))
                refused.append(_reply_error(sock, 1.0))
        finally:
            sock.close()
        ctx.notes.update(reached=reached, missed=missed, refused_with_reply=refused)

    def holds(self):
        return False

    def noticed(self, before, during):
        return None

    def problem(self, before, now, notes):
        expected = notes.get("expected_scene")
        if expected is not None and now.get("scene") != expected:
            return f"scene {now.get('scene')!r}, expected {expected!r} (a missing scene must change nothing)"
        missed = notes.get("missed")
        if missed:
            return f"scene/go did not reach {missed}"
        if not all(notes.get("refused_with_reply", [True])):
            return "a missing scene was not answered with an error reply"
        return None


def _reply_error(sock: socket.socket, timeout_s: float) -> bool:
    """Whether a /perform/reply/... 'error' came back within timeout_s (other datagrams are skipped)."""
    from pythonosc.osc_message import OscMessage  # start-up: as encode_message above

    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        try:
            data, _ = sock.recvfrom(65536)
        except (socket.timeout, OSError):
            continue
        try:
            msg = OscMessage(data)
        except Exception:  # noqa: BLE001 - not ours to judge here
            continue
        if msg.address.startswith("/perform/reply/") and msg.params and msg.params[0] == "error":
            return True
    return False


class CPUHog(Fault):
    """A busy process beside the show for the hold (another program pegging a core)."""

    name = "cpu-hog"

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen] = []

    def start(self, ctx, hold_s):
        self._procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                        preexec_fn=dies_with_this_process(signal.SIGKILL))]
        ctx.notes["hog_pids"] = [p.pid for p in self._procs]

    def end(self, ctx):
        for p in self._procs:
            p.kill()
        for p in self._procs:
            p.wait()
        self._procs = []


FAULTS: dict[str, Callable[[], Fault]] = {
    # the kill last in a round: a restart is the slowest recovery, and the next fault should not land in it
    f.name: f for f in (FreezeInference, OSCFlood, BrokenSetlist, BrokenShader, CameraStall, SceneChanges, CPUHog,
                        KillInference)
}


def make_faults(names: list[str]) -> list[Fault]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise PerformError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return [FAULTS[n]() for n in names]

