"""LiveStatus: a small JSON file with a running show's health, rewritten a few times a second.

For a watcher outside the show (the soak harness, a stage manager's monitor): it reads the file instead
of asking over OSC, so a flooded OSC port or a stalled render loop cannot hide the answer: a file that
stops changing *is* the answer (the render loop writes it, between frames).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

WRITE_EVERY_S = 0.1


class LiveStatus:
    """Called once a frame on the main thread (`update`); writes `path` at most every `every_s`.

    Counters are cumulative since the start: frames drawn, display frames missed (a frame interval of k
    periods misses k-1 frames), generated images received (the results mailbox version) and when the
    newest arrived, errors reported. The rest is the state now: scene, source status, the newest face
    observation's frame index (-1: none arrived), setlist and shader errors, the inference child's pid.
    The file is replaced atomically, so a reader never sees half of it.
    """

    def __init__(self, path: str | Path, runner: Any, conductor: Any, presenter: Any, fps: float,
                 infer: Any = None, reloader: Any = None, osc: Any = None, every_s: float = WRITE_EVERY_S) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._runner, self._conductor, self._presenter = runner, conductor, presenter
        self._infer, self._reloader, self._osc = infer, reloader, osc
        self._period_s = 1.0 / fps if fps and fps > 0 else 0.0
        self._every_s = every_s
        self._next_s = -math.inf
        self._t_prev: float | None = None
        self._missed = 0
        self._generated = 0
        self._generated_wall_s = math.nan

    def update(self, frames_drawn: int) -> None:
        now = time.perf_counter()
        if self._t_prev is not None and self._period_s:
            self._missed += max(0, round((now - self._t_prev) / self._period_s) - 1)
        self._t_prev = now
        version = self._runner.results.peek()[1]
        if version != self._generated:
            self._generated = version
            self._generated_wall_s = time.time()
        if now < self._next_s:
            return
        self._next_s = now + self._every_s
        self._write(frames_drawn)

    def _write(self, frames_drawn: int) -> None:
        face, _ = self._runner.faces.peek()
        reload_error = self._conductor.reload_error
        status = {
            "pid": os.getpid(),
            "wall_s": time.time(),
            "frames_drawn": frames_drawn,
            "frames_missed": self._missed,
            "generated": self._generated,
            "generated_wall_s": None if math.isnan(self._generated_wall_s) else self._generated_wall_s,
            "infer_pid": getattr(self._infer, "pid", None),
            "source_status": self._runner.source.status,
            "face_index": face.frame_index if face is not None else -1,
            "scene": self._conductor.scene_name,
            "reload_error": reload_error.splitlines()[0][:200] if reload_error else None,
            "setlist_reloads": getattr(self._reloader, "reloads", 0),
            "setlist_failures": getattr(self._reloader, "failures", 0),
            # each chain counted once: a chain two scenes share has a copy per scene, compiled from the same files
            "shader_errors": sum(len(pool[0].shader_errors) for pool in self._presenter.chains.values() if pool),
            "shader_errors_seen": self._presenter.shader_errors_seen,
            "errors": self._runner.reporter.total(),
            "osc_accepted": self._osc.get("accepted") if self._osc is not None else 0,
            "osc_dropped": self._osc.total_dropped() if self._osc is not None else 0,
        }
        self._tmp.write_text(json.dumps(status))
        os.replace(self._tmp, self.path)
