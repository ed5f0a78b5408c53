"""SceneScheduler: which scene (and which transition) a frame shows, from the time and events it is given.

Shared by the live and the fixed clock: it never reads a wall clock, so the same times and events give the
same states, frame for frame. Rules (docs/setlists.md):
- A scene ends when its duration (seconds, or beats at the running tempo) has passed, at its `advance.at`
  show time, or on a trigger; it then hands over to the next scene with its own transition.
- The incoming scene's clock starts when the transition starts, so a show lasts the sum of its durations.
- A trigger during a transition finishes that transition at once, then starts the new one from its target.
- A latent transition between scenes with different models (a jump) falls back to a crossfade.
- After the last scene's duration the show holds on it (state.finished).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from perform.control.events import ControlEvent
from perform.setlist import controls
from perform.setlist.curves import apply_curve
from perform.setlist.keyframes import keyframe_latents, keyframe_walk, slerp
from perform.setlist.schema import Setlist

_EPS = 1e-9  # a frame at exactly the end time counts as past it, despite float rounding


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
        self._latents: dict[tuple[int, int], np.ndarray] = {}
        self._advance_keys = _advance_keys(setlist)

    # ---- the frame call -------------------------------------------------------------------------------
    def update(self, t_s: float, events: Iterable[ControlEvent] = ()) -> SceneState:
        """Advance to time t_s, applying `events` at their own times (clamped into this frame's interval)."""
        if self._t0 is None:
            self._t0 = self._last_t = float(t_s)
            self._clock = _Clock(self._t0, self._t0)
        t = max(float(t_s), self._last_t)  # never backwards: a late frame must not replay a scene change
        for ev in sorted(events, key=lambda e: e.t_s):
            te = min(max(float(ev.t_s), self._last_t), t)
            self._run_until(te)
            self._handle(ev, te)
        self._run_until(t)
        self._last_t = t
        return self._state(t)

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
        scene = self.setlist.scenes[self.index]
        addr = ev.address
        if addr == controls.TEMPO:
            bpm = ev.args[0] if ev.args else None
            if isinstance(bpm, (int, float)) and not isinstance(bpm, bool) and math.isfinite(bpm) and 1.0 <= bpm <= 999.0:
                self._set_tempo(float(bpm), t)
            else:
                self._note = f"{controls.TEMPO}: {bpm!r} is not a tempo (1-999 BPM)"
        elif addr == controls.SCENE_GO:
            self._go_to(ev.args[0] if ev.args else None, t)
        elif not controls.is_press(ev):
            return
        elif addr in scene.advance.osc or addr == controls.SCENE_NEXT:
            self._step(+1, t)
        elif addr == controls.SCENE_PREV:
            self._step(-1, t)
        elif addr.startswith(controls.KEY_PREFIX):
            key = controls.key_name(addr[len(controls.KEY_PREFIX):])
            if key in self._advance_keys[self.index] or key in controls.NEXT_KEYS:
                self._step(+1, t)
            elif key in controls.PREV_KEYS:
                self._step(-1, t)
            elif key in controls.DIGIT_KEYS:
                self._go_to(int(key) - 1, t)  # key 1 is the first scene

    def _step(self, delta: int, t: float) -> None:
        self._finish_transition()
        target = self.index + delta
        if 0 <= target < len(self.setlist.scenes):
            self._go(target, t)

    def _go_to(self, which, t: float) -> None:
        target = self.setlist.index_of(which) if isinstance(which, (int, str)) else None
        if target is None:
            self._note = f"{controls.SCENE_GO}: no scene {which!r}"
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

    def keyframes(self, index: int, latent_dim: int) -> np.ndarray:
        """(K, Z) keyframe latents of scene `index` (cached)."""
        key = (index, latent_dim)
        if key not in self._latents:
            self._latents[key] = keyframe_latents(self.setlist.scenes[index], latent_dim)
        return self._latents[key]

    def scene_latent(self, index: int, latent_dim: int, scene_time_s: float, scene_beats: float) -> np.ndarray:
        """Scene `index`'s base latent (Z,) at its own time (walking its keyframes)."""
        return keyframe_walk(self.keyframes(index, latent_dim), self.setlist.scenes[index].keyframe_every,
                             scene_time_s, scene_beats)

    def latent(self, state: SceneState, latent_dim: int) -> np.ndarray:
        """The base latent (Z,) for `state`'s scene; during a latent transition, the path between both scenes."""
        z = self.scene_latent(state.index, latent_dim, state.scene_time_s, state.scene_beats)
        tr = state.transition
        if tr is not None and tr.kind == "latent":
            z0 = self.scene_latent(tr.from_index, latent_dim, tr.from_scene_time_s, tr.from_scene_beats)
            z = slerp(z0, z, tr.progress)
        return z

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
        self._latents.clear()
        self._finished = False  # re-evaluated against the new durations on the next update


def _advance_keys(setlist: Setlist) -> list[frozenset[str]]:
    return [frozenset(controls.key_name(k) for k in s.advance.keys) for s in setlist.scenes]
