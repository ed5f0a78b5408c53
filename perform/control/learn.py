"""MIDI learn: arm a mapping target, move a MIDI control, and the mapping is written into the setlist.

Arming: `/perform/learn <target>` (osc_routes, target LEARN), `/perform/learn` alone (the target last touched
over OSC), or the L key in the window: the first press arms the last target touched over OSC, or the scene's
first mapping target; each press after moves to the next one (the scene's mapping targets, then its shader
parameters), and past the last one learning is off again. The HUD shows what is armed.

The first MIDI control that moves while armed (a CC, a note on, the pitch bend) becomes the source of a
mapping onto the target, in the scene on screen: setlist/edit.py writes it (a real TOML edit that keeps the
file's comments) on this object's own thread, and the setlist watcher hot-reloads it like any edit.
`observe` runs on whichever thread steps the program; it only reads events and hands work to the writer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from perform.control.events import ControlEvent
from perform.control.osc_routes import LEARN, held_values, route_for
from perform.errors import PerformError
from perform.mapping.spec import MappingError, TargetContext, check_target_syntax, target_exists
from perform.render.passes import pass_type
from perform.setlist.check import shader_param_names
from perform.setlist.edit import add_mapping

log = logging.getLogger(__name__)

LEARN_KEY = "/perform/key/l"
TARGET_KINDS = ("latent", "direction", "mix", "shader", "keyframes")  # held values that are mapping targets
NOTE_S = 5.0  # how long the HUD says what was learned


class MidiLearn:
    """Owns the armed target and the writer thread. write(path, scene, table, comment) -> the file written."""

    def __init__(self, setlist_path: str, write: Callable[..., Any] = add_mapping) -> None:
        self.setlist_path = setlist_path
        self._write = write
        self.armed: str | None = None
        self.scene: str | None = None  # the scene the target was armed in
        self.last_touched: str | None = None
        self.learned: list[tuple[str, str, str]] = []  # (scene, source, target), as written
        self.note = ""
        self._note_until = 0.0
        self._jobs: queue.Queue = queue.Queue()
        self._done = threading.Condition()
        self._pending = 0
        self._writer = threading.Thread(target=self._write_loop, name="midi-learn", daemon=True)
        self._writer.start()

    # -- events (the thread stepping the program) -------------------------------------------------------
    def observe(self, events: list[ControlEvent], program: Any) -> None:
        for e in events:
            route = route_for(e.address)
            if route is not None and route.target == LEARN:
                self._arm_named(str(e.args[0]) if e.args else None, program, e.t_s)
            elif e.address == LEARN_KEY:
                self._cycle(program, e.t_s)
            elif e.address.startswith("/perform/midi/"):
                if self.armed is not None:
                    self._learn(e, program)
            elif e.origin != "replay":
                for name, _ in held_values(e):
                    if name.partition(".")[0] in TARGET_KINDS:
                        self.last_touched = name

    def _arm_named(self, target: str | None, program: Any, t_s: float) -> None:
        if target == "off":
            self._disarm("learn off", t_s)
            return
        target = target or self.last_touched
        if target is None:
            self._say("learn: nothing touched over OSC yet; name a target: /perform/learn shader.<pass>.<param>", t_s)
            return
        why = self._missing(target, program)
        if why:
            self._say(f"learn: {target}: {why}", t_s)
            return
        self.armed, self.scene = target, program.scene_name
        self._say("", t_s)

    def _cycle(self, program: Any, t_s: float) -> None:
        choices = self._choices(program)
        if self.armed is None:
            nxt = choices[0] if choices else None
        else:
            i = choices.index(self.armed) if self.armed in choices else -1
            nxt = choices[i + 1] if i + 1 < len(choices) else None
        if nxt is None:
            self._disarm("learn off", t_s)
        else:
            self.armed, self.scene = nxt, program.scene_name
            self._say("", t_s)

    def _choices(self, program: Any) -> list[str]:
        """Targets L steps through: the last one touched over OSC, the scene's mapping targets, its shader params."""
        rt = _runtime(program)
        out = [self.last_touched] if self.last_touched and not self._missing(self.last_touched, program) else []
        if rt is not None:
            out += [s.target for s in getattr(rt.mapper, "specs", ())]
            out += [f"shader.{p}.{q}" for p, q in sorted(shader_param_names(rt.scene))]
        return list(dict.fromkeys(out))

    def _missing(self, target: str, program: Any) -> str | None:
        try:
            check_target_syntax(target, "learn")
        except MappingError as e:
            return str(e).split(": ", 2)[-1]
        rt = _runtime(program)
        if rt is None:
            return "no scene is playing"
        ctx = TargetContext(rt.model.latent_dim, frozenset(rt.model.directions), len(rt.keyframes),
                            frozenset(shader_param_names(rt.scene)))
        return target_exists(target, ctx)

    def _learn(self, e: ControlEvent, program: Any) -> None:
        parts = e.address.split("/")[3:]  # cc/1/7, note/1/60, bend/1, program/1
        if parts[0] == "program" or (parts[0] == "note" and not e.args[0]):
            return  # a program change is a trigger, a note off the end of a press already learned (or not)
        source = "midi." + ".".join(parts)
        target, scene = self.armed, self.scene
        self.armed = None
        table = mapping_table(source, target, _runtime(program, scene))
        with self._done:
            self._pending += 1
        self._jobs.put((scene, table))
        self._say(f"learned {source} -> {target} in {scene!r}: writing {self.setlist_path}", e.t_s)

    def _disarm(self, text: str, t_s: float) -> None:
        self.armed = None
        self._say(text, t_s)

    def _say(self, text: str, t_s: float) -> None:
        self.note = text
        self._note_until = time.monotonic() + NOTE_S  # the HUD's clock, not the show's: learning is live only
        if text:
            log.info("%s", text)

    # -- the writer thread --------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            scene, table = job
            try:
                written = self._write(self.setlist_path, scene, table, "learned from MIDI")
                self.learned.append((scene, table["source"], table["target"]))
                self.note = f"learned {table['source']} -> {table['target']} (written to {written.name}; reloading)"
                self._note_until = time.monotonic() + NOTE_S
                log.warning("MIDI learn: %s -> %s in scene %r, written to %s", table["source"], table["target"],
                            scene, written)
            except (PerformError, OSError) as e:
                self.note = f"learn: could not write the setlist: {e}"
                self._note_until = time.monotonic() + NOTE_S
                log.error("MIDI learn: could not write %s: %s", self.setlist_path, e)
            except Exception as e:  # a learn must never take the show down
                self.note = f"learn failed: {type(e).__name__}: {e}"
                log.exception("MIDI learn failed")
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()

    def wait_written(self, timeout_s: float) -> bool:
        """Block until every learned mapping is written (tests, and closing)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout_s)

    def hud_lines(self) -> list[str]:
        if self.armed is not None:
            return [f"LEARN {self.armed}: move a MIDI control  (L: next target)"]
        return [self.note] if self.note and time.monotonic() < self._note_until else []

    def close(self) -> None:
        self.wait_written(2.0)
        self._jobs.put(None)
        self._writer.join(timeout=2.0)


def mapping_table(source: str, target: str, rt: Any) -> dict[str, Any]:
    """The mapping learn writes: the control's whole travel over the target's useful range. Shader parameters
    and the mix are set outright (replace) across their real range; latent coordinates and directions are
    offsets (sum, the default range). A little smoothing hides a 7-bit controller's steps."""
    table: dict[str, Any] = {"source": source, "target": target}
    kind, _, rest = target.partition(".")
    if kind == "shader" and rt is not None:
        p, _, q = rest.partition(".")
        sh = next((s for s in rt.scene.shaders if s.name == p), None)
        spec = pass_type(sh.type if sh is not None else "display").params[q]
        table["out"] = [float(spec.min), float(spec.max)]
        table["combine"] = "replace"
    elif kind in ("mix", "keyframes"):
        table["out"] = [0.0, 1.0]
        table["combine"] = "replace"
    table["smooth"] = 0.05
    return table


def _runtime(program: Any, scene: str | None = None) -> Any:
    """The running scene's runtime (or the named scene's) of a conductor, through any wrappers."""
    name = scene if scene is not None else getattr(program, "scene_name", None)
    for rt in getattr(program, "runtimes", ()):
        if rt.scene.name == name:
            return rt
    return None
