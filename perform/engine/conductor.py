"""The conductor: owns the performance state and turns (time, face, control events) into a FramePlan.

One object for both clocks: the live loop calls step() at display rate with perf_counter times, the fixed
clock with n/fps. Nothing here reads a clock, touches GL or runs torch (models are only held for the
inference stage and asked for their shape and directions).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from perform.control.events import ControlEvent
from perform.control.osc_routes import CONDUCTOR, MAPPING, route_for
from perform.engine.plan import FramePlan, GenJob, Layer
from perform.mapping.engine import MappingEngine
from perform.mapping.spec import load_default_mappings, parse_mapping
from perform.nets.bending.bent import bend_model
from perform.nets.bending.table import BendSpec
from perform.nets.model import GenerativeModel, load_model
from perform.render.passes import pass_type
from perform.setlist.check import shader_param_names as scene_params
from perform.setlist.keyframes import keyframe_latents, keyframe_walk
from perform.setlist.schema import Scene, Setlist, ShaderSpec
from perform.tracking.observation import FEATURE_NAMES, FaceObservation

log = logging.getLogger(__name__)

DRIFT_RAMP_S = 2.0       # how fast the latent drift fades in when the camera is lost, and out when it returns
DRIFT_AMPLITUDE = 0.8    # in units of the prior's standard deviation
DRIFT_SOURCES = ("lost", "ended")


class Drift:
    """A slow, deterministic wander through latent space (a sum of sines with seeded rates and phases):
    what the instrument does on its own when the camera is gone."""

    def __init__(self, latent_dim: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.rates = rng.uniform(0.03, 0.15, size=(3, latent_dim)) * 2 * math.pi  # rad/s
        self.phases = rng.uniform(0, 2 * math.pi, size=(3, latent_dim))

    def at(self, t_s: float) -> np.ndarray:
        return (np.sin(self.rates * t_s + self.phases).sum(0) / math.sqrt(3.0)).astype(np.float32)


@dataclass
class SceneRuntime:
    """What a scene needs while it plays: its model, keyframes, mapping state and chain key."""

    scene: Scene
    model_key: str
    model: GenerativeModel
    keyframes: np.ndarray
    mapper: Any
    chain_key: str
    shaders: tuple = ()  # the chain: the scene's shaders, after a side_by_side pass for a pair shown side by side


@dataclass
class PerformanceState:
    """The conductor's own controls (osc_routes target CONDUCTOR). The tempo is the scheduler's."""

    freeze: bool = False
    blackout: bool = False


PAIR_PASS = ShaderSpec("side_by_side", "pair", {})


def data_latents(draws: np.ndarray, model: GenerativeModel) -> np.ndarray:
    """Seeded N(0, 1) draws (K, Z) moved to where the model's data lives, when its card measured that
    (`latent_stats`: mean and std of the encoder means over the training set): a VAE's prior is only
    roughly matched, and its mean latent decodes to a muddier face than the data's mean. Explicit
    keyframe vectors are used as written."""
    stats = model.info.card.get("latent_stats") if model.info.card else None
    if not stats:
        return draws
    mean = np.asarray(stats["mean"], np.float32)
    std = np.asarray(stats["std"], np.float32)
    if mean.shape != (draws.shape[1],) or std.shape != mean.shape:
        return draws
    return (mean + std * draws).astype(np.float32)


def scene_shaders(scene: Scene, model: GenerativeModel) -> tuple:
    """The scene's chain; a pair model shown side by side gets the side_by_side pass first (source slots
    0 and 1 hold generators A and B)."""
    if model.info.kind == "pair" and scene.pair.mode == "side_by_side":
        return (PAIR_PASS, *scene.shaders)
    return tuple(scene.shaders)


def setlist_bends(setlist: Setlist) -> dict[str, tuple[BendSpec, ...]]:
    """{card path: every bend the setlist's scenes put on that model}, by name (the loader has checked that one
    name means one bend on a model), without values: a model is bent once for all its scenes, and a scene's
    job sets the values (bends it does not name stay at identity)."""
    out: dict[str, dict[str, BendSpec]] = {}
    for scene in setlist.scenes:
        for b in scene.bends:
            out.setdefault(str(scene.model_path), {}).setdefault(b.name, replace(b, params=()))
    return {k: tuple(v.values()) for k, v in out.items()}


def model_key(scene: Scene, bends: Mapping[str, tuple[BendSpec, ...]]) -> str:
    """The key of a scene's model: its card path, with a digest of its bends when it has any (a hot reload that
    changes the bends loads a freshly bent model; one that changes only values keeps it)."""
    path = str(scene.model_path)
    specs = bends.get(path)
    if not specs:
        return path
    return f"{path}#bends-{hashlib.sha1(repr([b.structure for b in specs]).encode()).hexdigest()[:12]}"


def card_of_key(key: str) -> str:
    """The card path a model key (model_key) was made from."""
    return key.split("#bends-", 1)[0]


def lerp_net(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...], p: float,
             ranges: Mapping[str, tuple[float, float, float]]) -> tuple[tuple[str, float], ...]:
    """Network parameters on the way from a to b (a name one side leaves out is at the model's default there)."""
    da, db = dict(a), dict(b)
    out = []
    for n in sorted(set(da) | set(db)):
        d = ranges[n][2] if n in ranges else 0.0
        x, y = da.get(n, d), db.get(n, d)
        out.append((n, x if x == y else (1.0 - p) * x + p * y))
    return tuple(out)


def chain_key(shaders: tuple) -> str:
    """Scenes with the same shader chain share a compiled chain in the renderer."""
    return repr(tuple((s.type, s.name, tuple(sorted(dict(s.params).items()))) for s in shaders))


class Conductor:
    """Plays a Setlist: scheduling scenes, evaluating mappings, planning the images and shader params.

    models: {model key: GenerativeModel}; load them with `load_models` (shared across hot reloads).
    make_mapper(scene, model, keyframes) -> an object with evaluate(...) (perform.mapping).
    make_scheduler(setlist) -> an object with update(t_s, events) -> SceneState.
    """

    def __init__(self, setlist: Setlist, models: dict[str, GenerativeModel],
                 make_mapper: Callable[[Scene, GenerativeModel, np.ndarray], Any],
                 make_scheduler: Callable[[Setlist], Any], control: Any = None,
                 reply: Callable[[ControlEvent, bool, str], None] | None = None,
                 on_scene: Sequence[Callable[[int, str], None]] = (), audio: Any = None) -> None:
        self.models = models
        self._make_mapper = make_mapper
        self.setlist = setlist
        self.scheduler = make_scheduler(setlist)  # owns the scenes and the tempo; everything here reads them
        self.state = PerformanceState()
        self._runtimes = self._build_runtimes(setlist)
        any_model = next(iter(models.values()))
        self._drift = Drift(any_model.latent_dim)
        self._drift_weight = 0.0
        self._held_crop: np.ndarray | None = None  # the last face crop seen, while its presence fades out
        self._t_prev: float | None = None
        self.scene_name = ""
        self.reload_error: str | None = None
        self.on_scene = tuple(on_scene)  # told (index, name) when the scene changes (OSC out, MIDI out)
        self.control = control  # a ControlState: held inputs, keys and direct overrides (the clock's owner's)
        self.reply = reply  # answers an OSC sender (QLab-style)
        self.audio = audio  # AudioSignals (perform/audio/signals.py): values_at(t_s), for audio.* mappings

    # -- setup ---------------------------------------------------------------------------------------------
    def _build_runtimes(self, setlist: Setlist) -> list[SceneRuntime]:
        out = []
        bends = setlist_bends(setlist)
        for scene in setlist.scenes:
            key = model_key(scene, bends)
            model = self.models[key]
            keys = keyframe_latents(scene, model.latent_dim)
            if not scene.keyframes:
                keys = data_latents(keys, model)
            shaders = scene_shaders(scene, model)
            out.append(SceneRuntime(scene, key, model, keys, self._make_mapper(scene, model, keys), chain_key(shaders),
                                    shaders))
        return out

    @property
    def runtimes(self) -> list[SceneRuntime]:
        return list(self._runtimes)

    def chains(self) -> dict[str, tuple]:
        """{chain key: shader specs} of every scene: the renderer compiles these before the show."""
        return {rt.chain_key: rt.shaders for rt in self._runtimes}

    def chain_copies(self) -> dict[str, int]:
        """{chain key: copies the renderer needs}: two of a chain that scenes share, as a transition between
        two of them draws both scenes, each through its own copy."""
        return {key: min(n, 2) for key, n in Counter(rt.chain_key for rt in self._runtimes).items()}

    def swap(self, setlist: Setlist, models: dict[str, GenerativeModel] | None = None) -> None:
        """Hot reload at a frame boundary: keep the current scene (by name) and its time; reuse models.
        Builds everything first, so a failure (raised) leaves the running setlist untouched."""
        old_models = self.models
        if models is not None:
            self.models = models
        try:
            runtimes = self._build_runtimes(setlist)
        except Exception:
            self.models = old_models
            raise
        # keep the mapping state (smoothing, LFO phase) of scenes whose mappings did not change
        old = {rt.scene.name: rt for rt in self._runtimes}
        for i, rt in enumerate(runtimes):
            prev = old.get(rt.scene.name)
            if (prev is not None and prev.scene.mappings == rt.scene.mappings and prev.model_key == rt.model_key
                    and prev.scene.net_values == rt.scene.net_values):
                runtimes[i] = replace(rt, mapper=prev.mapper)
        self.scheduler.swap(setlist)
        self.setlist = setlist
        self._runtimes = runtimes
        self.reload_error = None

    # -- per frame -----------------------------------------------------------------------------------------
    def _apply(self, events: list[ControlEvent], tempo_bpm: float) -> None:
        """The events whose route names the conductor or the mappings as their owner (osc_routes.ROUTES);
        the scheduler's own are applied in scheduler.update, held values in ControlState.drain."""
        for ev in events:
            route = route_for(ev.address)
            if route is None:
                continue
            v = ev.args[0] if ev.args else None
            if route.target == CONDUCTOR:
                if route.action == "freeze":
                    self.state.freeze = not self.state.freeze if v is None else bool(v)
                elif route.action == "blackout":
                    self.state.blackout = not self.state.blackout if v is None else bool(v)
            elif route.target == MAPPING and route.action == "beat":
                beat = v if isinstance(v, int) and not isinstance(v, bool) else None
                for rt in self._runtimes:  # every scene's LFOs keep the sender's beat, not only the one shown
                    rt.mapper.sync_beat(beat, ev.t_s, tempo_bpm)

    def step(self, t_s: float, index: int, face: FaceObservation | None, events: list[ControlEvent],
             source_status: str = "ok") -> FramePlan:
        dt = 0.0 if self._t_prev is None else max(0.0, t_s - self._t_prev)
        self._t_prev = t_s
        sched = self.scheduler.update(t_s, events)
        self._apply(events, sched.tempo_bpm)
        if self.reply is not None:
            for ev, ok, reason in sched.answers:
                self.reply(ev, ok, reason)
        cur = self._runtimes[sched.index]
        if cur.scene.name != self.scene_name:
            self.scene_name = cur.scene.name
            for fn in self.on_scene:
                fn(sched.index, cur.scene.name)

        # drift fades in while the camera is lost, and out when it is back
        target = 1.0 if source_status in DRIFT_SOURCES else 0.0
        step = dt / DRIFT_RAMP_S
        self._drift_weight += max(-step, min(step, target - self._drift_weight))
        features = dict(face.features) if face is not None else {n: 0.0 for n in FEATURE_NAMES}
        presence = float(features.get("presence", 0.0))
        crop = self._face_crop(face, presence)
        t_cap = face.t_capture_s if face is not None and face.present else math.nan
        audio = self.audio.values_at(t_s).sources() if self.audio is not None else None

        tr = sched.transition
        status = ""
        fade = 0.0
        if tr is None:
            job, params = self._scene_job(cur, sched.scene_time_s, sched.scene_beats, sched.tempo_bpm, t_s, features,
                                          presence, crop, audio)
            jobs, layers = (job,), (Layer(cur.chain_key, cur.scene.name, 0, params),)
        else:
            src = self._runtimes[tr.from_index]
            dst = self._runtimes[tr.to_index]
            ja, pa = self._scene_job(src, tr.from_scene_time_s, tr.from_scene_beats, sched.tempo_bpm, t_s, features,
                                     presence, crop, audio)
            jb, pb = self._scene_job(dst, sched.scene_time_s, sched.scene_beats, sched.tempo_bpm, t_s, features,
                                     presence, crop, audio)
            status = f"{tr.kind} {src.scene.name} -> {dst.scene.name} {tr.progress * 100:3.0f}%"
            la, lb = Layer(src.chain_key, src.scene.name, 0, pa), Layer(dst.chain_key, dst.scene.name, 1, pb)
            if tr.kind == "cut":
                jobs, layers = (jb,), (replace(lb, job=0),)
            elif tr.kind == "latent" and src.model_key == dst.model_key:
                # one image on the way between the latents; drawn through both chains, faded, if they differ
                p = tr.progress
                job = GenJob(dst.model_key, ((1 - p) * ja.latent + p * jb.latent).astype(np.float32), crop,
                             (1 - p) * ja.mix + p * jb.mix, jb.pair, self._lerp_net(dst, ja.net, jb.net, p))
                jobs = (job,)
                if src.chain_key == dst.chain_key:
                    layers = (replace(lb, job=0),)
                else:
                    layers, fade = (la, replace(lb, job=0)), p
            else:  # crossfade of images (also a latent transition between different models)
                if src.model_key == dst.model_key and ja.net != jb.net:
                    # one model: its bends (blend, trajectory) move from one scene's values to the other's
                    net = self._lerp_net(dst, ja.net, jb.net, tr.progress)
                    ja, jb = replace(ja, net=net), replace(jb, net=net)
                jobs, layers, fade = (ja, jb), (la, lb), tr.progress
        if self._drift_weight > 0:
            status = (status + "  " if status else "") + f"drifting {self._drift_weight * 100:3.0f}%"
        return FramePlan(index, t_s, jobs, layers, fade, t_cap, cur.scene.name,
                         self.state.freeze, self.state.blackout, status)

    def _face_crop(self, face: FaceObservation | None, presence: float) -> np.ndarray | None:
        """The crop whose latent the face share shows: the newest one seen, held after detection fails
        for as long as presence has not faded to 0. Dropping it at once would jump the image to the control
        latent on the frame the face is lost; held, the face eases out as its mix falls with presence."""
        if face is not None and face.present and face.crop is not None:
            self._held_crop = face.crop
        elif presence <= 0.0:
            self._held_crop = None
        return self._held_crop

    def _scene_job(self, rt: SceneRuntime, scene_t: float, scene_beats: float, tempo_bpm: float, t_s: float,
                   features: Mapping[str, float], presence: float, crop: np.ndarray | None,
                   audio: Mapping[str, float] | None = None) -> tuple[GenJob, dict]:
        scene = rt.scene
        rt.mapper.base_latent = keyframe_walk(rt.keyframes, scene.keyframe_every, scene_t, scene_beats)
        c = self.control
        out = rt.mapper.evaluate(t_s, c.inputs if c is not None else {}, features, tempo_bpm,
                                 keys=c.keys if c is not None else None, overrides=c.overrides if c is not None else None,
                                 midi=getattr(c, "midi", None), audio=audio)
        latent = out.latent
        if self._drift_weight > 0:
            latent = latent + (self._drift_weight * DRIFT_AMPLITUDE) * self._drift.at(t_s)
        # the face's share fades with its presence, so a lost face never jumps the image
        mix = float(out.mix) * presence
        pair = self._pair_options(rt, scene_t, tempo_bpm) if rt.model.info.kind == "pair" else None
        net = tuple(sorted(getattr(out, "net", {}).items()))
        return GenJob(rt.model_key, np.asarray(latent, dtype=np.float32), crop, mix, pair, net), dict(out.shader_params)

    @staticmethod
    def _lerp_net(rt: SceneRuntime, a: tuple, b: tuple, p: float) -> tuple:
        if a == b:
            return b
        return lerp_net(a, b, p, rt.model.net_params() if hasattr(rt.model, "net_params") else {})

    def _pair_options(self, rt: SceneRuntime, scene_t: float, tempo_bpm: float) -> tuple[str, float, float]:
        """(mode, crossfade, snapshot position) for a data-free pair: the trajectory plays back ping-pong
        over the scene's time unless /perform/in/snapshot holds a position."""
        spec = rt.scene.pair
        inputs = self.control.inputs if self.control is not None else {}
        snapshot = spec.snapshot
        if spec.trajectory is not None:
            period = spec.trajectory.to_seconds(tempo_bpm) or 1.0
            phase = (scene_t / period) % 2.0
            snapshot = phase if phase <= 1.0 else 2.0 - phase
        snapshot = float(inputs.get("snapshot", snapshot))
        crossfade = float(inputs.get("pair_crossfade", spec.crossfade))
        return spec.mode, min(max(crossfade, 0.0), 1.0), min(max(snapshot, 0.0), 1.0)

    def hud_lines(self) -> list[str]:
        cur = self.scene_name
        n = len(self.setlist.scenes)
        idx = self.setlist.index_of(cur)
        lines = [f"scene {idx + 1 if idx is not None else '?'}/{n}: {cur}   tempo {self.scheduler.tempo_bpm:.0f}"]
        m = next(iter(self.models.values()))
        lines.append(f"model {m.info.name}{'  UNTRAINED' if m.info.untrained else ''}  device {m.device}")
        if self.state.blackout:
            lines.append("BLACKOUT")
        if self.reload_error:
            lines.append(f"setlist error (last good kept): {self.reload_error.splitlines()[0][:90]}")
        return lines


def load_models(setlist: Setlist, device: str | None, cache: dict[str, GenerativeModel] | None = None,
                loader: Callable[[Path, str | None], GenerativeModel] | None = None) -> dict[str, GenerativeModel]:
    """Every model a setlist uses, keyed by `model_key` (the card path, and its bends); models already in
    `cache` are reused. A bent model is loaded afresh and owns its copy (the bends hook into its layers)."""
    loader = loader or (lambda p, d: load_model(p, d))
    bends = setlist_bends(setlist)
    out: dict[str, GenerativeModel] = {}
    for scene in setlist.scenes:
        key = model_key(scene, bends)
        if key in out:
            continue
        if cache is not None and key in cache:
            out[key] = cache[key]
        else:
            out[key] = bend_model(loader(scene.model_path, device), bends.get(str(scene.model_path), ()))
    return out


def make_mapper(scene: Scene, model: GenerativeModel, keyframes: np.ndarray):
    """A MappingEngine for a scene: its mappings (the shipped defaults when it names none), checked against
    the model's latent size and directions and the scene's shader passes."""
    if scene.mappings.specs:
        specs = tuple(scene.mappings.specs)
    elif scene.mappings.tables:
        where = str(scene.mappings.file or f"scene {scene.name!r}")
        specs = tuple(parse_mapping(t, f"{where} mapping[{i}]") for i, t in enumerate(scene.mappings.tables))
    else:
        specs = load_default_mappings()

    names = sorted(scene_params(scene))
    types = {sh.name: sh for sh in scene.shaders}
    ranges, defaults = {}, {}
    for pass_name, param in names:
        sh = types.get(pass_name)
        cls = pass_type(sh.type if sh is not None else "display")
        spec = cls.params[param]
        ranges[(pass_name, param)] = (spec.min, spec.max)
        v = dict(sh.params).get(param, spec.default) if sh is not None else spec.default
        defaults[(pass_name, param)] = float(cls.choices.get(param, {}).get(v, spec.default)) if isinstance(v, str) else float(v)
    return MappingEngine(specs, model.latent_dim, model.directions, keyframes, keyframes[0],
                         shader_params=names, shader_ranges=ranges, shader_defaults=defaults, base_mix=scene.mix,
                         net_params=scene_net_params(scene, model), net_base=scene.net_values)


def scene_net_params(scene: Scene, model: GenerativeModel) -> dict[str, tuple[float, float, float]]:
    """The live network parameters a scene may set: its model's, less the bends of other scenes on that model."""
    own = {f"bend.{b.name}." for b in scene.bends}
    declared = model.net_params() if hasattr(model, "net_params") else {}
    return {n: r for n, r in declared.items() if not n.startswith("bend.") or n[:n.rindex(".") + 1] in own}


def shader_param_names(setlist: Setlist) -> set[tuple[str, str]]:
    """Every (pass name, parameter) of every scene's chain: what /perform/shader/<pass>/<param> may set."""
    return set().union(*(scene_params(scene) for scene in setlist.scenes)) if setlist.scenes else set()
