"""Everything a show needs, checked before the show: schema, models, shaders, mappings, timing, reachability."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perform.errors import PerformError
from perform.mapping.spec import TargetContext, target_exists
from perform.render.chain import ShaderChain
from perform.render.context import create_headless_context
from perform.render.passes import PASS_TYPES, PassSpec
from perform.render.shaders import ShaderLibrary
from perform.setlist.keyframes import keyframe_latents
from perform.setlist.loader import load_setlist
from perform.setlist.locate import KeyLocator
from perform.setlist.problems import Problem, Problems, SetlistError
from perform.setlist.schema import Scene, Setlist

log = logging.getLogger(__name__)

SLOW_FACTOR = 1.0  # warn when one image takes longer than this many frame intervals of the show


@dataclass
class ModelFacts:
    """What check learnt about one model file."""

    path: Path
    kind: str = "?"
    name: str = "?"
    latent_dim: int = 0
    output_shape: tuple[int, int] = (0, 0)  # (H, W)
    directions: frozenset[str] = frozenset()
    ms_per_image: float | None = None
    untrained: bool = False
    error: str | None = None
    model: Any = None


@dataclass
class CheckReport:
    path: Path
    setlist: Setlist | None = None
    problems: list[Problem] = field(default_factory=list)
    models: dict[str, ModelFacts] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_setlist(path: str | os.PathLike, *, gl: bool = True, timing: bool = True, device: str = "cpu",
                  model_cache: dict[str, ModelFacts] | None = None) -> CheckReport:
    """Check one setlist file. model_cache (card path -> ModelFacts) lets several setlists share loads."""
    report = CheckReport(Path(path))
    try:
        setlist = load_setlist(path)
    except SetlistError as e:
        report.problems = list(e.problems)
        return report
    report.setlist = setlist
    report.problems = list(setlist.warnings)
    text = Path(path).read_text(encoding="utf-8")
    problems = Problems(path, KeyLocator(text))
    cache = model_cache if model_cache is not None else {}
    for i, scene in enumerate(setlist.scenes):
        facts = _model(scene.model_path, cache, device, timing)
        report.models[str(scene.model_path)] = facts
        if facts.error:
            problems.error(("scene", i, "model"), f"model {scene.model!r} cannot be loaded: {facts.error}")
            continue
        _check_keyframes(scene, i, facts, problems)
        _check_bends(scene, i, facts, problems)
        _check_mappings(scene, i, facts, problems)
        _check_declaration(scene, i, facts, problems)
    if gl:
        _check_shaders(setlist, report.models, problems)
    _check_timing(setlist, report.models, problems)
    _check_flow(setlist, problems)
    report.problems += problems.items
    return report


# ---- models ---------------------------------------------------------------------------------------------
def _model(card: Path | None, cache: dict[str, ModelFacts], device: str, timing: bool) -> ModelFacts:
    key = str(card)
    if key in cache:
        return cache[key]
    facts = ModelFacts(Path(card) if card is not None else Path("?"))
    cache[key] = facts
    if card is None:
        facts.error = "no model file"
        return facts
    try:
        # torch is loaded only when a setlist's model is really loaded
        from perform.nets.model import load_model

        model = load_model(card, device)
    except PerformError as e:
        facts.error = str(e)
        return facts
    except Exception as e:  # noqa: BLE001 - a corrupt file may fail anywhere in torch; check reports it
        facts.error = f"{type(e).__name__}: {e}"
        return facts
    facts.model = model
    facts.kind, facts.name, facts.untrained = model.info.kind, model.info.name, model.info.untrained
    facts.latent_dim = int(model.latent_dim)
    facts.output_shape = tuple(model.output_shape)
    facts.directions = frozenset(model.directions)
    if timing:
        facts.ms_per_image = _time_model(model)
    return facts


def _time_model(model: Any, runs: int = 5) -> float:
    """Fastest of a few images after one warm-up, in ms: a quick guide, not a benchmark (the minimum is the
    least disturbed by other work on the machine)."""
    z = np.random.default_rng(0).standard_normal(model.latent_dim).astype(np.float32)
    model.generate(z)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        model.generate(z)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(min(times))


def _check_keyframes(scene: Scene, i: int, facts: ModelFacts, problems: Problems) -> None:
    try:
        keyframe_latents(scene, facts.latent_dim)
    except ValueError as e:
        problems.error(("scene", i, "keyframes"), str(e).split(": ", 1)[-1], expected=f"{facts.latent_dim} values per vector")


# ---- bends and live network parameters -------------------------------------------------------------------
def net_param_names(scene: Scene, facts: ModelFacts) -> set[str]:
    """The live network parameters a scene may set: its model's own (net_params()), a declared blend's and its
    bends'."""
    from perform.nets.bending.table import TRANSFORMS  # plain data
    from perform.nets.blend import ALPHA, GROUP_ALPHA, SWAP  # torch: only where a model was loaded

    own = getattr(facts.model, "net_params", None)
    names = set(own()) if own is not None else set()
    if scene.blend is not None:  # the model is checked as its card stands; the show builds it blended
        names |= {ALPHA, SWAP, *GROUP_ALPHA.values()}
    names |= {f"bend.{b.name}.{p}" for b in scene.bends if b.transform in TRANSFORMS for p in TRANSFORMS[b.transform].params}
    return names


def _check_bends(scene: Scene, i: int, facts: ModelFacts, problems: Problems) -> None:
    """Each [[scene.bend]]'s layer and target against the model (the loader checked the transform and params),
    then [scene.net]'s names against what the scene's model declares."""
    if scene.bends:
        from perform.nets.bending.bent import bend_problem  # torch: only where a model was loaded

        for j, b in enumerate(scene.bends):
            why = bend_problem(b, facts.model)
            if why:
                key = "layer" if "layer" in why and "cluster" not in why else "target" if "cluster" in why else "transform"
                problems.error(("scene", i, "bend", j, key), why)
    names = net_param_names(scene, facts)
    for name, _ in scene.net:
        if name not in names:
            have = ", ".join(sorted(names)) or "none"
            problems.error(("scene", i, "net", *name.split(".")),
                           f"the scene's model has no live parameter {name!r} (it has: {have})")


# ---- mappings -------------------------------------------------------------------------------------------
def shader_param_names(scene: Scene) -> frozenset[tuple[str, str]]:
    """(pass name, param) pairs a mapping may target in this scene's chain (with the display pass the chain adds)."""
    out = set()
    specs = [(s.type, s.name) for s in scene.shaders]
    if not specs or specs[-1][0] != "display":
        specs.append(("display", "display"))
    for kind, name in specs:
        cls = PASS_TYPES.get(kind)
        if cls is not None:
            out |= {(name, p) for p in cls.params}
    return frozenset(out)


def _check_mappings(scene: Scene, i: int, facts: ModelFacts, problems: Problems) -> None:
    if not scene.mappings.specs:
        return

    ctx = TargetContext(facts.latent_dim, facts.directions, scene.keyframe_count, shader_param_names(scene),
                        frozenset(net_param_names(scene, facts)))
    for j, spec in enumerate(scene.mappings.specs):
        reasons = []
        for t in (spec.target, *spec.fallback):
            why = target_exists(t, ctx)
            if why is None:
                break
            reasons.append(f"{t}: {why}")
        else:
            if spec.optional:
                continue
            where = ("scene", i, "mapping", j, "target") if scene.mappings.file is None else ("scene", i, "mapping")
            prefix = f"{scene.mappings.file.name} [[mapping]] #{j + 1}: " if scene.mappings.file is not None else ""
            problems.error(where, prefix + f"mapping {spec.source} -> {spec.target} has no target here: " + "; ".join(reasons))


def _check_declaration(scene: Scene, i: int, facts: ModelFacts, problems: Problems) -> None:
    """A blend whose two models match layer by layer (from their cards), swapping layers that exist; a
    trajectory position only on a trajectory model."""
    if scene.trajectory is not None and facts.kind != "trajectory":
        problems.error(("scene", i, "trajectory"), f"model {scene.model!r} is a {facts.kind} model, with no snapshot "
                       "trajectory to play", expected="a trajectory model (made by `perform train --recipe diverge`)")
    blend = scene.blend
    if blend is None or blend.with_path is None or scene.model_path is None:
        return
    try:
        # torch is loaded only when a setlist's model is really loaded (as in _model)
        from perform.nets.blend import check_blendable

        check_blendable(scene.model_path, blend.with_path, blend.swap)
    except PerformError as e:
        problems.error(("scene", i, "blend"), f"cannot blend {scene.model!r} with {blend.with_model!r}: {e}")


# ---- shaders --------------------------------------------------------------------------------------------
def _check_shaders(setlist: Setlist, models: dict[str, ModelFacts], problems: Problems) -> None:
    """Build each distinct chain in a headless EGL context: compiles every program it uses."""
    try:
        library = ShaderLibrary()
    except PerformError as e:  # no shaders folder: the show could not draw either
        problems.error(("show",), str(e))
        return
    try:
        ctx = create_headless_context()
    except PerformError as e:  # what create_headless_context raises when EGL cannot give a context
        problems.warn(("show",), f"shaders were not compiled (no headless OpenGL here): {e}")
        return
    built: dict[str, str | None] = {}
    try:
        for i, scene in enumerate(setlist.scenes):
            facts = models.get(str(scene.model_path))
            h, w = facts.output_shape if facts and facts.output_shape[0] else (64, 64)
            specs = tuple(PassSpec(s.type, s.name, dict(s.params)) for s in scene.shaders)
            key = repr((scene.shaders, (w, h)))
            if key not in built:
                built[key] = None
                try:
                    chain = ShaderChain(ctx, list(specs), (w, h), tuple(setlist.show.size), library=library)
                    chain.release()
                except PerformError as e:
                    built[key] = str(e)
            if built[key]:
                problems.error(("scene", i, "shader"), built[key])
    finally:
        ctx.release()


# ---- timing and flow ------------------------------------------------------------------------------------
def _check_timing(setlist: Setlist, models: dict[str, ModelFacts], problems: Problems) -> None:
    budget_ms = 1000.0 / setlist.show.fps
    warned: set[str] = set()
    for i, scene in enumerate(setlist.scenes):
        facts = models.get(str(scene.model_path))
        if facts is None or facts.ms_per_image is None or facts.name in warned:
            continue
        if facts.ms_per_image > SLOW_FACTOR * budget_ms:
            warned.add(facts.name)
            problems.warn(("scene", i, "model"),
                          f"model {facts.name!r} takes {facts.ms_per_image:.0f} ms per image here, slower than "
                          f"{setlist.show.fps:g} fps ({budget_ms:.0f} ms): live it will show about "
                          f"{1000.0 / facts.ms_per_image:.0f} new images a second (offline renders are exact, only slower)")


def _check_flow(setlist: Setlist, problems: Problems) -> None:
    scenes = setlist.scenes
    starts = setlist.start_times_s()
    for i, scene in enumerate(scenes):
        nxt = scenes[i + 1] if i + 1 < len(scenes) else None
        if scene.duration.hold and not scene.advance.any and nxt is not None:
            problems.warn(("scene", i, "duration"),
                          f"scene {scene.name!r} holds with no [scene.advance] trigger: scene {nxt.name!r} and later "
                          "are reached only by hand (keys, /perform/scene/next|go)")
        if scene.advance.at_s is not None and starts[i] is not None and scene.advance.at_s < starts[i] - 1e-9:
            problems.warn(("scene", i, "advance", "at"),
                          f"at = {scene.advance.at_s:g} s, but the scene starts at {starts[i]:g} s: it will move on as soon as it starts")
        tr = scene.transition.duration.to_seconds(setlist.show.tempo_bpm) or 0.0
        if nxt is not None and scene.transition.kind != "cut":
            nd = nxt.duration.to_seconds(setlist.show.tempo_bpm)
            if nd is not None and tr > nd + 1e-9:
                problems.warn(("scene", i, "transition"),
                              f"the {tr:g} s transition is longer than scene {nxt.name!r} ({nd:g} s): it will be cut short")


def format_report(report: CheckReport, strict: bool = False) -> str:
    """A performer-readable summary: the show, its scenes, then problems, then the verdict (strict: warnings fail)."""
    lines: list[str] = []
    sl = report.setlist
    if sl is not None:
        total = sl.total_s()
        length = f"{total:g} s" if total is not None else "open-ended (holds)"
        lines.append(f"{report.path}: \"{sl.show.title}\"  {sl.show.size[0]}x{sl.show.size[1]} @ {sl.show.fps:g} fps, "
                     f"{sl.show.tempo_bpm:g} BPM, {len(sl.scenes)} scene(s), {length}")
        starts = sl.start_times_s()
        for i, s in enumerate(sl.scenes):
            at = f"{starts[i]:6.1f}s" if starts[i] is not None else "     - "
            tr = s.transition
            trans = f" -> {tr.kind} {tr.duration} {tr.curve}" if tr.kind != "cut" else ""
            lines.append(f"  [{i}] {at}  {s.name:<16} {Path(s.model).stem:<12} drive={s.drive:<6} {str(s.duration):<10}{trans}")
        for facts in report.models.values():
            if facts.error is None:
                ms = f", {facts.ms_per_image:.1f} ms/image" if facts.ms_per_image is not None else ""
                untrained = "  UNTRAINED" if facts.untrained else ""
                lines.append(f"  model {facts.name}: {facts.kind}, {facts.output_shape[1]}x{facts.output_shape[0]}, "
                             f"latent {facts.latent_dim}, {len(facts.directions)} direction(s){ms}{untrained}")
    for p in report.problems:
        lines.append(f"  {p}")
    n_err, n_warn = len(report.errors), len(report.warnings)
    verdict = "FAILED" if not report.ok else "FAILED (--strict)" if strict and n_warn else "OK"
    lines.append(f"{verdict}: {report.path.name}: {n_err} error(s), {n_warn} warning(s)")
    return "\n".join(lines)
