"""MappingSpec: one declared mapping (source -> curve -> smoothing -> target), loaded from TOML.

    [[mapping]]
    source = "face.mouth_open"            # in.<name> | face.<feature> | key.<name> | time | lfo.<shape> | midi.<control> | audio.<signal>
    target = "direction.mouth_open"       # latent.<i> | direction.<name> | keyframes | mix | shader.<pass>.<param>
                                          # | bend.<name>.<param> | blend.alpha[.<group>] | blend.swap | trajectory.position
    fallback = ["direction.pc0"]          # tried in order when the target does not exist in this model
    in = [0.0, 1.0]
    out = [0.0, 2.5]
    curve = "smoothstep"                  # linear | exponential (k = 3) | smoothstep
    smooth = 0.15                         # time constant in s, or { min_cutoff = 1.0, beta = 0.1 } (One Euro)
    combine = "sum"                       # sum | replace | multiply

Loading checks names and shapes (and names the file, the entry and the key); `validate_specs` checks
targets against a model and a shader chain, separately, so `perform check` can run it before a show.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from perform.audio.features import AUDIO_RANGES, AUDIO_SIGNALS
from perform.errors import PerformError
from perform.tracking.observation import FEATURE_NAMES, FEATURE_RANGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CURVES = ("linear", "exponential", "smoothstep")
COMBINES = ("sum", "replace", "multiply")
LFO_SHAPES = ("sine", "triangle", "saw", "square", "random")
SOURCE_KINDS = ("in", "face", "key", "time", "lfo", "midi", "audio")
# midi.cc.<ch>.<n> and midi.note.<ch>.<n> (0..1), midi.bend.<ch> (-1..1, 0 at rest), midi.program.<ch> (program / 127);
# channels 1..16 as a musician counts them, numbers 0..127
MIDI_SOURCE = re.compile(r"(?:(?:cc|note)\.(?P<ch>\d{1,2})\.(?P<n>\d{1,3})|(?:bend|program)\.(?P<ch1>\d{1,2}))")
TARGET_KINDS = ("latent", "direction", "keyframes", "mix", "shader", "bend", "blend", "trajectory")
NET_KINDS = ("bend", "blend", "trajectory")  # live network parameters: the scene model's net_params() names them
BLEND_GROUPS = ("coarse", "middle", "fine")  # a blend's layer groups by depth (perform.nets.blend)
_NAME = r"[A-Za-z0-9_\-]{1,64}"
KEYS = ("source", "target", "fallback", "optional", "in", "out", "curve", "k", "invert", "smooth", "combine",
        "rate", "beats", "phase", "seed")
SMOOTH_KEYS = ("slew", "min_cutoff", "beta", "d_cutoff")


class MappingError(PerformError):
    """A mapping that cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True, slots=True)
class Smoothing:
    """slew_s > 0: exponential lag with that time constant. one_euro: min_cutoff/beta/d_cutoff (Hz)."""

    slew_s: float = 0.0
    one_euro: bool = False
    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0

    @property
    def active(self) -> bool:
        return self.one_euro or self.slew_s > 0


@dataclass(frozen=True, slots=True)
class MappingSpec:
    source: str
    target: str
    in_range: tuple[float, float]
    out_range: tuple[float, float]
    curve: str = "linear"
    k: float = 3.0
    invert: bool = False
    smooth: Smoothing = Smoothing()
    combine: str = "sum"
    rate_hz: float | None = None
    beats: float | None = None
    phase: float = 0.0
    seed: int = 0
    fallback: tuple[str, ...] = ()
    optional: bool = False
    where: str = ""  # 'file.toml: [[mapping]] #2', for messages

    @property
    def source_kind(self) -> str:
        return self.source.partition(".")[0]

    @property
    def source_name(self) -> str:
        return self.source.partition(".")[2]


def default_in_range(source: str) -> tuple[float, float]:
    kind, _, name = source.partition(".")
    if kind == "face" and name in FEATURE_RANGES:
        return FEATURE_RANGES[name]
    if kind == "time":
        return (0.0, 60.0)
    if source.startswith("midi.bend."):
        return (-1.0, 1.0)
    if kind == "audio" and name in AUDIO_RANGES:
        return AUDIO_RANGES[name]
    return (0.0, 1.0)


def default_out_range(target: str) -> tuple[float, float]:
    return (-2.0, 2.0) if target.partition(".")[0] in ("latent", "direction") else (0.0, 1.0)


def _closest(word: str, choices: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else ""


def check_source(source: object, where: str) -> str:
    """A source name well-formed, or MappingError naming what was expected."""
    if not isinstance(source, str):
        raise MappingError(f"{where}: key 'source': expected a string, got {source!r}")
    kind, dot, name = source.partition(".")
    if kind not in SOURCE_KINDS:
        raise MappingError(f"{where}: key 'source': unknown source {source!r}; expected in.<name>, face.<feature>, "
                           f"key.<name>, time, lfo.<shape>, midi.<control> or audio.<signal>{_closest(kind, SOURCE_KINDS)}")
    if kind == "time":
        if dot:
            raise MappingError(f"{where}: key 'source': 'time' takes no name (got {source!r})")
    elif kind == "face" and name not in FEATURE_NAMES:
        raise MappingError(f"{where}: key 'source': unknown face feature {name!r}; expected one of "
                           f"{', '.join(FEATURE_NAMES)}{_closest(name, FEATURE_NAMES)}")
    elif kind == "lfo" and name not in LFO_SHAPES:
        raise MappingError(f"{where}: key 'source': unknown LFO shape {name!r}; expected one of "
                           f"{', '.join(LFO_SHAPES)}{_closest(name, LFO_SHAPES)}")
    elif kind == "midi":
        check_midi_name(name, f"{where}: key 'source': {source!r}")
    elif kind == "audio" and name not in AUDIO_SIGNALS:
        raise MappingError(f"{where}: key 'source': unknown audio signal {name!r}; expected one of "
                           f"{', '.join(AUDIO_SIGNALS)}{_closest(name, AUDIO_SIGNALS)}")
    elif kind in ("in", "key") and not re.fullmatch(_NAME, name):
        raise MappingError(f"{where}: key 'source': {source!r}: expected {kind}.<name> with a name of letters, "
                           f"digits, '_' or '-'")
    return source


def check_midi_name(name: str, what: str) -> str:
    """'cc.1.7', 'note.10.36', 'bend.1' or 'program.16', with a channel 1..16 and a number 0..127, or MappingError."""
    m = MIDI_SOURCE.fullmatch(name)
    ch = m and int(m.group("ch") or m.group("ch1"))
    if not m or not 1 <= ch <= 16 or (m.group("n") is not None and int(m.group("n")) > 127):
        raise MappingError(f"{what}: expected midi.cc.<channel>.<controller>, midi.note.<channel>.<note>, "
                           f"midi.bend.<channel> or midi.program.<channel> (channel 1..16, numbers 0..127)")
    return name


def check_target_syntax(target: object, where: str, key: str = "target") -> str:
    """A target name well-formed (existence is validate_specs' job)."""
    if not isinstance(target, str):
        raise MappingError(f"{where}: key {key!r}: expected a string, got {target!r}")
    kind, _, rest = target.partition(".")
    ok = ((kind == "latent" and rest.isdigit()) or (kind == "direction" and re.fullmatch(_NAME, rest))
          or (kind in ("keyframes", "mix") and not rest)
          or (kind in ("shader", "bend") and re.fullmatch(rf"{_NAME}\.{_NAME}", rest))
          or (kind == "blend" and rest in ("alpha", "swap", *(f"alpha.{g}" for g in BLEND_GROUPS)))
          or (kind == "trajectory" and rest == "position"))
    if not ok:
        raise MappingError(f"{where}: key {key!r}: unknown target {target!r}; expected latent.<index>, direction.<name>, "
                           f"keyframes, mix, shader.<pass>.<param>, bend.<name>.<param>, blend.alpha, "
                           f"blend.alpha.<coarse|middle|fine>, blend.swap or trajectory.position{_closest(kind, TARGET_KINDS)}")
    return target


def _range(v: object, where: str, key: str) -> tuple[float, float]:
    if (not isinstance(v, (list, tuple)) or len(v) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
        raise MappingError(f"{where}: key {key!r}: expected [low, high] of two finite numbers, got {v!r}")
    lo, hi = float(v[0]), float(v[1])
    if key == "in" and lo == hi:
        raise MappingError(f"{where}: key 'in': the range [{lo:g}, {hi:g}] is empty (low == high)")
    return lo, hi


def _number(v: object, where: str, key: str, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise MappingError(f"{where}: key {key!r}: expected a number, got {v!r}")
    if v < lo or v > hi or (lo_open and v == lo):
        raise MappingError(f"{where}: key {key!r}: {v:g} outside {'(' if lo_open else '['}{lo:g}, {hi:g}]")
    return float(v)


def _choice(v: object, where: str, key: str, choices: Sequence[str]) -> str:
    if v not in choices:
        raise MappingError(f"{where}: key {key!r}: {v!r} unknown; expected one of {', '.join(choices)}"
                           f"{_closest(str(v), choices)}")
    return str(v)


def _smoothing(v: object, where: str) -> Smoothing:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Smoothing(slew_s=_number(v, where, "smooth", 0.0, 60.0))
    if not isinstance(v, dict):
        raise MappingError(f"{where}: key 'smooth': expected seconds (a number) or a table "
                           f"{{ min_cutoff = 1.0, beta = 0.1 }} (One Euro) or {{ slew = 0.2 }}, got {v!r}")
    for k in v:
        if k not in SMOOTH_KEYS:
            raise MappingError(f"{where}: key 'smooth.{k}' unknown; expected {', '.join(SMOOTH_KEYS)}{_closest(k, SMOOTH_KEYS)}")
    if "slew" in v:
        if len(v) > 1:
            raise MappingError(f"{where}: key 'smooth': 'slew' cannot be combined with One Euro keys")
        return Smoothing(slew_s=_number(v["slew"], where, "smooth.slew", 0.0, 60.0))
    return Smoothing(one_euro=True,
                     min_cutoff=_number(v.get("min_cutoff", 1.0), where, "smooth.min_cutoff", 0.0, 1e3, lo_open=True),
                     beta=_number(v.get("beta", 0.0), where, "smooth.beta", 0.0, 1e6),
                     d_cutoff=_number(v.get("d_cutoff", 1.0), where, "smooth.d_cutoff", 0.0, 1e3, lo_open=True))


def parse_mapping(table: Mapping[str, Any], where: str) -> MappingSpec:
    """One [[mapping]] table -> MappingSpec, or MappingError naming `where` and the key."""
    if not isinstance(table, Mapping):
        raise MappingError(f"{where}: expected a table, got {type(table).__name__}")
    for k in table:
        if k not in KEYS:
            raise MappingError(f"{where}: key {k!r} unknown; expected one of {', '.join(KEYS)}{_closest(k, KEYS)}")
    for k in ("source", "target"):
        if k not in table:
            raise MappingError(f"{where}: key {k!r} missing")
    source = check_source(table["source"], where)
    target = check_target_syntax(table["target"], where)
    fb = table.get("fallback", ())
    fb = [fb] if isinstance(fb, str) else fb
    if not isinstance(fb, (list, tuple)):
        raise MappingError(f"{where}: key 'fallback': expected a list of target names, got {fb!r}")
    fallback = tuple(check_target_syntax(t, where, "fallback") for t in fb)
    kind = source.partition(".")[0]
    if kind != "lfo":
        for k in ("rate", "beats", "phase", "seed"):
            if k in table:
                raise MappingError(f"{where}: key {k!r} applies to LFO sources only (source is {source!r})")
    if "rate" in table and "beats" in table:
        raise MappingError(f"{where}: keys 'rate' and 'beats': give one (Hz, or a period in beats at the tempo)")
    rate = _number(table["rate"], where, "rate", 0.0, 1e3, lo_open=True) if "rate" in table else None
    beats = _number(table["beats"], where, "beats", 0.0, 1e4, lo_open=True) if "beats" in table else None
    if kind == "lfo" and rate is None and beats is None:
        rate = 0.1
    seed = table.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise MappingError(f"{where}: key 'seed': expected an integer, got {seed!r}")
    invert = table.get("invert", False)
    optional = table.get("optional", False)
    for k, v in (("invert", invert), ("optional", optional)):
        if not isinstance(v, bool):
            raise MappingError(f"{where}: key {k!r}: expected true or false, got {v!r}")
    return MappingSpec(
        source=source, target=target,
        in_range=_range(table["in"], where, "in") if "in" in table else default_in_range(source),
        out_range=_range(table["out"], where, "out") if "out" in table else default_out_range(target),
        curve=_choice(table.get("curve", "linear"), where, "curve", CURVES),
        k=_number(table.get("k", 3.0), where, "k", -50.0, 50.0),
        invert=invert,
        smooth=_smoothing(table.get("smooth", 0.0), where),
        combine=_choice(table.get("combine", "sum"), where, "combine", COMBINES),
        rate_hz=rate, beats=beats,
        phase=_number(table.get("phase", 0.0), where, "phase") if kind == "lfo" else 0.0,
        seed=seed, fallback=fallback, optional=optional, where=where,
    )


def parse_mappings(doc: Mapping[str, Any], where: str, key: str = "mapping") -> tuple[MappingSpec, ...]:
    """The `[[mapping]]` array of a parsed TOML document (a setlist scene may hold one too)."""
    entries = doc.get(key, [])
    if not isinstance(entries, list):
        raise MappingError(f"{where}: key {key!r}: expected an array of tables ([[{key}]]), got {type(entries).__name__}")
    return tuple(parse_mapping(t, f"{where}: [[{key}]] #{i + 1}") for i, t in enumerate(entries))


def load_mappings(path: str | os.PathLike) -> tuple[MappingSpec, ...]:
    """A mapping file: only [[mapping]] tables at the top level."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise MappingError(f"{p}: cannot read mapping file: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{p}: not valid TOML: {e}") from None
    for k in doc:
        if k != "mapping":
            raise MappingError(f"{p}: key {k!r} unknown at the top level; a mapping file holds [[mapping]] tables")
    return parse_mappings(doc, str(p))


DEFAULT_MAPPINGS = Path(__file__).with_name("default.toml")


def load_default_mappings() -> tuple[MappingSpec, ...]:
    """The shipped default: the face drives the card's named directions (pc0.. as fallbacks), plus a slow drift."""
    return load_mappings(DEFAULT_MAPPINGS)


@dataclass(frozen=True, slots=True)
class TargetContext:
    """What exists to map onto: from the model (latent_dim, directions, the live network parameters its
    net_params() declares), the setlist (keyframes), the shader chain ((pass, param) pairs). None = not
    known, so not checked."""

    latent_dim: int
    directions: frozenset[str] = frozenset()
    keyframes: int = 0
    shader_params: frozenset[tuple[str, str]] | None = None
    net_params: frozenset[str] = frozenset()


def target_exists(target: str, ctx: TargetContext) -> str | None:
    """None if `target` exists in ctx, else why not (with the closest valid name)."""
    kind, _, rest = target.partition(".")
    if kind == "latent":
        return None if int(rest) < ctx.latent_dim else f"latent index {rest} >= latent_dim {ctx.latent_dim}"
    if kind == "direction":
        if rest in ctx.directions:
            return None
        have = ", ".join(sorted(ctx.directions)) or "none"
        return f"the model has no direction {rest!r} (it has: {have}){_closest(rest, ctx.directions)}"
    if kind == "keyframes":
        return None if ctx.keyframes >= 1 else "no keyframes are given"
    if kind == "shader" and ctx.shader_params is not None:
        pp = tuple(rest.split(".", 1))
        if pp in ctx.shader_params:
            return None
        names = [f"{a}.{b}" for a, b in ctx.shader_params]
        return f"no shader parameter {rest!r}{_closest(rest, names)}"
    if kind in NET_KINDS:
        if target in ctx.net_params:
            return None
        have = sorted(ctx.net_params)
        listed = ", ".join(have[:16]) + (f", ... ({len(have)} in all)" if len(have) > 16 else "") if have else "none"
        return f"the scene's model has no live parameter {target!r} (it has: {listed}){_closest(target, have)}"
    return None


def validate_specs(specs: Sequence[MappingSpec], ctx: TargetContext) -> tuple[MappingSpec, ...]:
    """Resolve each spec's target against ctx: the first of target, *fallback that exists.

    Returns the specs with `target` resolved (and no fallbacks left); optional specs whose targets
    all fail are left out. Raises MappingError listing every problem, each naming its entry.
    """
    out, problems = [], []
    for s in specs:
        reasons = []
        for t in (s.target, *s.fallback):
            why = target_exists(t, ctx)
            if why is None:
                out.append(replace(s, target=t, fallback=()))
                break
            reasons.append(f"{t}: {why}")
        else:
            if not s.optional:
                problems.append(f"{s.where}: key 'target': " + "; ".join(reasons))
    if problems:
        raise MappingError("\n".join(problems))
    return tuple(out)
