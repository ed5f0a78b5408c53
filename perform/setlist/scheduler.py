"""SceneScheduler: which scene (and which transition) a frame shows, from the time and events it is given.

Shared by the live and the fixed clock: it never reads a wall clock, so the same times and events give the
same states, frame for frame. Rules (docs/setlists.md):
- A scene ends when its duration (seconds, or beats at the running tempo) has passed, at its `advance.at`
  show time, or on a trigger; it then hands over to the next scene with its own transition.
- The incoming scene's clock starts when the transition starts, so a show lasts the sum of its durations.
- A trigger during a transition finishes that transition at once, then starts the new one from its target.
- A latent transition between scenes with different models (a jump) falls back to a crossfade.
- After the last scene's duration the show holds on it (state.finished).
- With `quantise` ("beat" or "bar"; the show's, or the scene's `advance.quantise`), a triggered change waits for
  the next beat or bar line of the show's beat grid: beats counted from the show's start at the running tempo,
  re-phased by /perform/beat (a MIDI clock or Link sends one each beat with its count). The latest trigger
  waiting wins. Scenes ending on their own (duration, advance.at) are not moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable

from perform.control.events import ControlEvent
from perform.control.osc_routes import MAPPING, SCHEDULER, route_for
from perform.setlist.curves import apply_curve
from perform.setlist.schema import Setlist

_EPS = 1e-9  # a frame at exactly the end time counts as past it, despite float rounding
KEY_PREFIX = "/perform/key/"  # + key name: what the window and /perform/key/<name> send
MIDI_PREFIX = "/perform/midi/"  # + note/<ch>/<n>, program/<ch>, cc/<ch>/<n>: MIDI in (control/midi_in.py)

# Arrows and a presentation clicker's page keys move through the show; digit keys 1-9 jump to the first nine
# scenes (key 1 is index 0: a keyboard has no key 0 before 1). A scene's advance.keys add to these.
NEXT_KEYS: tuple[str, ...] = ("right", "pagedown")
PREV_KEYS: tuple[str, ...] = ("left", "pageup")
DIGIT_KEYS: tuple[str, ...] = tuple("123456789")


@dataclass(frozen=True, slots=True)
class TransitionState:
    """from_index -> to_index; progress is after the curve, linear before it (both 0..1)."""

    from_index: int
    to_index: int
    progress: float
    linear: float
    kind: str  # "crossfade" | "latent"
    from_scene_time_s: float
    from_scene_beats: float


@dataclass(frozen=True, slots=True)
class SceneState:
    """The scene at one time. During a transition `index` is the incoming scene (its clock already runs)."""

    index: int
    name: str
    scene_time_s: float
    scene_beats: float
    show_time_s: float
    tempo_bpm: float
    transition: TransitionState | None = None
    finished: bool = False  # the last scene's duration has passed; it holds
    note: str = ""          # the latest control that could not be followed, for the HUD and the log
    # the answers to this update's commands that their sender hears from us (routes with owner_answers):
    # (event, ok, reason), for the conductor to send
    answers: tuple[tuple[ControlEvent, bool, str], ...] = ()

    @property
    def from_scene_time_s(self) -> float:
        """The outgoing scene's own time during a transition (else this scene's)."""
        return self.transition.from_scene_time_s if self.transition is not None else self.scene_time_s


@dataclass(slots=True)
class _Clock:
    """A scene's own time: seconds since it started, beats integrated across tempo changes."""

    start_t: float
    anchor_t: float
    anchor_beats: float = 0.0

    def beats(self, t: float, bpm: float) -> float:
        return self.anchor_beats + (t - self.anchor_t) * bpm / 60.0

    def reanchor(self, t: float, old_bpm: float) -> None:
        self.anchor_beats = self.beats(t, old_bpm)
        self.anchor_t = t


@dataclass(slots=True)
class _Transition:
    from_index: int
    from_clock: _Clock
    start_t: float
    duration_s: float
    kind: str
    curve: str


class SceneScheduler:
    """update(t_s, events) -> SceneState. Times are seconds on the engine's clock; the first update starts the show."""

    def __init__(self, setlist: Setlist, start_index: int = 0) -> None:
        if not setlist.scenes:
            raise ValueError("a setlist needs at least one scene")
        self.setlist = setlist
        self.tempo_bpm = setlist.show.tempo_bpm
        self.index = min(max(start_index, 0), len(setlist.scenes) - 1)
        self._t0: float | None = None
        self._last_t = 0.0
        self._clock = _Clock(0.0, 0.0)
        self._transition: _Transition | None = None
        self._finished = False
        self._note = ""
        self._advance_keys = _advance_keys(setlist)
        self._answers: list[tuple[ControlEvent, bool, str]] = []
        self._grid = _Clock(0.0, 0.0)  # the show's beat grid: beats since the show started (or the sender's count)
        self._pending: tuple[float, str, int] | None = None  # a quantised change: (grid beat, "step"|"go", arg)

    # ---- the frame call -------------------------------------------------------------------------------
    def update(self, t_s: float, events: Iterable[ControlEvent] = ()) -> SceneState:
        """Advance to time t_s, applying `events` at their own times (clamped into this frame's interval)."""
        if self._t0 is None:
            self._t0 = self._last_t = float(t_s)
            self._clock = _Clock(self._t0, self._t0)
            self._grid = _Clock(self._t0, self._t0)
        t = max(float(t_s), self._last_t)  # never backwards: a late frame must not replay a scene change
        self._answers = []
        for ev in sorted(events, key=lambda e: e.t_s):
            te = min(max(float(ev.t_s), self._last_t), t)
            self._run_until(te)
            self._handle(ev, te)
        self._run_until(t)
        self._last_t = t
        return replace(self._state(t), answers=tuple(self._answers)) if self._answers else self._state(t)

    def state(self) -> SceneState:
        """The state at the last update's time, without advancing."""
        return self._state(self._last_t)

    # ---- scenes ending on their own ---------------------------------------------------------------------
    def _end_t(self) -> float | None:
        """When the current scene ends by itself (duration or advance.at), or None while it holds."""
        scene = self.setlist.scenes[self.index]
        end: float | None = None
        if scene.duration.seconds is not None:
            end = self._clock.start_t + scene.duration.seconds
        elif scene.duration.beats is not None:
            end = self._clock.anchor_t + (scene.duration.beats - self._clock.anchor_beats) * 60.0 / self.tempo_bpm
        at = scene.advance.at_s
        if at is not None and self._t0 is not None:
            at_t = self._t0 + at
            if at_t >= self._clock.start_t - _EPS:  # entered before its cue time (not jumped back into later)
                end = at_t if end is None else min(end, at_t)
        return end

    def _run_until(self, t: float) -> None:
        """Scenes ending on their own up to t, and a quantised change when its beat comes."""
        while self._pending is not None:
            due = self._grid_time(self._pending[0])
            if due > t + _EPS:
                break
            _, kind, arg = self._pending
            self._pending = None
            self._run_scenes_until(due)
            if kind == "go":
                self._finish_transition()
                if arg != self.index and arg < len(self.setlist.scenes):  # a reload may have removed it meanwhile
                    self._go(arg, due)
            else:
                self._step(arg, due)
        self._run_scenes_until(t)

    def _run_scenes_until(self, t: float) -> None:
        for _ in range(10 * len(self.setlist.scenes) + 10):  # bounded: many short scenes may pass in one frame
            tr = self._transition
            if tr is not None and tr.start_t + tr.duration_s <= t + _EPS:
                self._transition = None
                continue
            end = self._end_t()
            if end is None or end > t + _EPS or self._finished:
                return
            if self.index + 1 < len(self.setlist.scenes):
                self._go(self.index + 1, end)
            else:
                self._finished = True
                return

    # ---- controls -------------------------------------------------------------------------------------
    def _handle(self, ev: ControlEvent, t: float) -> None:
        """The scheduler's routes (osc_routes: target SCHEDULER), then the triggers a setlist binds: keys
        and a scene's advance.osc addresses."""
        route = route_for(ev.address)
        if route is not None and route.target == SCHEDULER:
            arg = ev.args[0] if ev.args else None
            if route.action == "tempo":
                self._tempo(arg, t)
            elif route.action == "go":
                self._go_to(arg, t, ev if route.owner_answers else None)
            elif is_press(ev):
                self._trigger_step(+1 if route.action == "next" else -1, t)
            return
        if route is not None and route.target == MAPPING and route.action == "beat":
            self._sync_grid(ev.args[0] if ev.args else None, t)  # the mappings re-phase their LFOs from it too
            return
        addr = ev.address
        if addr.startswith(MIDI_PREFIX):
            self._midi(addr[len(MIDI_PREFIX):], ev.args[0] if ev.args else None, t)
            return
        if not is_press(ev):
            return
        if addr in self.setlist.scenes[self.index].advance.osc:
            self._trigger_step(+1, t)
        elif addr.startswith(KEY_PREFIX):
            key = key_name(addr[len(KEY_PREFIX):])
            if key in self._advance_keys[self.index] or key in NEXT_KEYS:
                self._trigger_step(+1, t)
            elif key in PREV_KEYS:
                self._trigger_step(-1, t)
            elif key in DIGIT_KEYS:
                self._go_to(int(key) - 1, t)  # key 1 is the first scene

    def _midi(self, path: str, value, t: float) -> None:
        """MIDI triggers: the scene's advance.midi ("note.1.36", "program.1.5", "cc.1.64": a note on, that
        program, a non-zero CC), and program n on the show's midi_scene_channel: go to scene n."""
        kind, _, rest = path.partition("/")
        if kind == "program":
            ch, program = rest, value
            if isinstance(program, (int, float)) and ch == str(self.setlist.show.midi_scene_channel):
                self._go_to(int(program), t)
                return
            name = f"program.{ch}.{program}"
        elif not value:  # a note off, a CC at 0: a release
            return
        else:
            name = f"{kind}.{rest.replace('/', '.')}"
        if name in self.setlist.scenes[self.index].advance.midi:
            self._trigger_step(+1, t)

    def _tempo(self, bpm, t: float) -> None:
        if isinstance(bpm, (int, float)) and not isinstance(bpm, bool) and math.isfinite(bpm) and 1.0 <= bpm <= 999.0:
            self._set_tempo(float(bpm), t)
        else:  # the router refuses these at the door; a hand-made or replayed event may still carry one
            self._note = f"/perform/tempo: {bpm!r} is not a tempo (1-999 BPM)"

    # ---- quantised triggers: the beat grid ----------------------------------------------------------------
    def _quantum(self) -> int:
        """Beats a triggered change waits to the line of: 0 at once, 1 a beat, beats_per_bar a bar."""
        mode = self.setlist.scenes[self.index].advance.quantise or self.setlist.show.quantise
        return {"beat": 1, "bar": self.setlist.show.beats_per_bar}.get(mode, 0)

    def _grid_time(self, beat: float) -> float:
        return self._grid.anchor_t + (beat - self._grid.anchor_beats) * 60.0 / self.tempo_bpm

    def _next_line(self, t: float, quantum: int) -> float:
        """The grid beat of the first beat (or bar) line at or after t."""
        return math.ceil(self._grid.beats(t, self.tempo_bpm) / quantum - 1e-6) * quantum

    def _later(self, kind: str, arg: int, t: float) -> bool:
        """Queue a triggered change for the next line when quantised (True), or say to do it now (False)."""
        q = self._quantum()
        if not q:
            return False
        self._pending = (self._next_line(t, q), kind, arg)
        self._run_until(t)  # on a line already: it happens now
        return True

    def _sync_grid(self, beat, t: float) -> None:
        """/perform/beat: a beat is now; its count (from the sender's song start), or the nearest whole beat."""
        count = beat if isinstance(beat, int) and not isinstance(beat, bool) else round(self._grid.beats(t, self.tempo_bpm))
        self._grid.anchor_beats, self._grid.anchor_t = float(count), t
        if self._pending is not None:  # a count that jumped (the sender's transport restarted): the next line again
            q = self._quantum() or 1
            if not count - 1e-6 <= self._pending[0] <= count + q:
                self._pending = (self._next_line(t, q), *self._pending[1:])

    def _trigger_step(self, delta: int, t: float) -> None:
        if not self._later("step", delta, t):
            self._step(delta, t)

    def _step(self, delta: int, t: float) -> None:
        self._finish_transition()
        target = self.index + delta
        if 0 <= target < len(self.setlist.scenes):
            self._go(target, t)

    def _go_to(self, which, t: float, answer: ControlEvent | None = None) -> None:
        target = self.setlist.index_of(which) if isinstance(which, (int, str)) else None
        if target is None:
            self._note = f"/perform/scene/go: no scene {which!r}"
            if answer is not None:
                names = ", ".join(self.setlist.names)
                self._answers.append((answer, False, f"no scene {which!r}; scenes (from 0): {names}"))
            return
        if answer is not None:
            self._answers.append((answer, True, ""))
        if self._later("go", target, t):
            return
        self._finish_transition()
        if target != self.index:
            self._go(target, t)

    def _finish_transition(self) -> None:
        self._transition = None

    def _go(self, target: int, t: float) -> None:
        """Hand over from the current scene to `target` at time t, with the current scene's transition."""
        scenes = self.setlist.scenes
        spec = scenes[self.index].transition
        kind = spec.kind
        if kind == "latent" and scenes[target].model_path != scenes[self.index].model_path:
            kind = "crossfade"
            self._note = f"latent transition {scenes[self.index].name!r} -> {scenes[target].name!r} crosses models: crossfading"
        dur_s = spec.duration.to_seconds(self.tempo_bpm) or 0.0
        self._transition = None
        if kind != "cut" and dur_s > 0.0:
            self._transition = _Transition(self.index, self._clock, t, dur_s, kind, spec.curve)
        self.index = target
        self._clock = _Clock(t, t)
        self._finished = False

    def _set_tempo(self, bpm: float, t: float) -> None:
        self._clock.reanchor(t, self.tempo_bpm)
        self._grid.reanchor(t, self.tempo_bpm)
        if self._transition is not None:
            self._transition.from_clock.reanchor(t, self.tempo_bpm)
        self.tempo_bpm = bpm

    # ---- reading the state ----------------------------------------------------------------------------
    def _state(self, t: float) -> SceneState:
        tr = None
        if self._transition is not None:
            x = self._transition
            linear = min(max((t - x.start_t) / x.duration_s, 0.0), 1.0)
            tr = TransitionState(x.from_index, self.index, apply_curve(x.curve, linear), linear, x.kind,
                                 t - x.from_clock.start_t, x.from_clock.beats(t, self.tempo_bpm))
        return SceneState(self.index, self.setlist.scenes[self.index].name, t - self._clock.start_t,
                          self._clock.beats(t, self.tempo_bpm), t - (self._t0 if self._t0 is not None else t),
                          self.tempo_bpm, tr, self._finished, self._note)

    # ---- hot reload -----------------------------------------------------------------------------------
    def swap(self, setlist: Setlist) -> None:
        """Carry on with an edited setlist: same scene (by name, else by position) at the same scene time.

        A running transition is finished first; a tempo edited in the file replaces the running tempo."""
        if not setlist.scenes:
            return
        self._finish_transition()
        name = self.setlist.scenes[self.index].name
        found = setlist.index_of(name) if name in setlist.names else None
        self.index = found if found is not None else min(self.index, len(setlist.scenes) - 1)
        if setlist.show.tempo_bpm != self.setlist.show.tempo_bpm:
            self._set_tempo(setlist.show.tempo_bpm, self._last_t)
        self.setlist = setlist
        self._advance_keys = _advance_keys(setlist)
        self._finished = False  # re-evaluated against the new durations on the next update


def _advance_keys(setlist: Setlist) -> list[frozenset[str]]:
    return [frozenset(key_name(k) for k in s.advance.keys) for s in setlist.scenes]


def key_name(name: str) -> str:
    """Key names compare lower case without spaces: "Page Down" and "pagedown" are one key."""
    return name.strip().lower().replace(" ", "").replace("_", "")


def is_press(ev: ControlEvent) -> bool:
    """A trigger fires on a press: no argument, or a non-zero first argument (a release sends 0)."""
    if not ev.args:
        return True
    v = ev.args[0]
    return bool(v) if isinstance(v, (int, float, bool)) else True
