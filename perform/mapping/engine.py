"""MappingEngine: control inputs, face features, audio signals, LFOs and time -> a latent, a mix and shader parameters.

Each frame: every mapping reads its source, scales it to 0..1 by its `in` range (clamped), shapes
it by its curve, smooths it, and scales it to its `out` range. Per target the results combine, in
an order that does not depend on the file's order:

    value = (last `replace` if any, else the base) + sum of `sum`s, times the product of `multiply`s

Bases: latent.<i> is the base latent's coordinate (or the keyframe path's, when `keyframes` is
mapped); direction amounts, keyframes position and shader parameters start at 0 (shader
parameters named in `shader_defaults` start there); mix starts at `base_mix`.

Live network parameters (bend.<name>.<param>, blend.*, trajectory.position: the targets the scene's
model declares in net_params()) start at the scene's values (`net_base`, e.g. a [[scene.bend]]'s params),
else the model's default; they are clamped to the model's range, and holds map 0..1 onto that range.

Then the latent is base + per-coordinate mappings + sum(amount * unit direction), and direct OSC
holds (ControlState.overrides: 'latent.3', 'direction.smile', 'mix', 'shader.p.q', each 0..1 as
sent) replace the mapped values last: latent and direction holds map 0..1 to -span..+span, shader
holds to the parameter's range in `shader_ranges` (or pass through as 0..1).

Pure apart from smoothing state and the beat phase, both stepped by t_s: the same inputs at the
same times give the same output (the fixed clock relies on it).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from perform.mapping.signals import Smoother, curve, lfo, unit
from perform.mapping.spec import NET_KINDS, MappingError, MappingSpec, TargetContext, validate_specs
from perform.tracking.observation import FaceObservation


@dataclass(frozen=True, slots=True, eq=False)
class MappedParams:
    """One frame's mapped parameters. latent: (Z,) float32. shader_params: {(pass, param): value} for
    every parameter a mapping or a hold set (others keep the chain's defaults). targets: final
    value per scalar target name, for the HUD and for tests. net: the live network parameters this frame
    sets (the scene's values, mapped and held ones), each finite and within the model's range."""

    t_s: float
    latent: np.ndarray
    mix: float
    shader_params: Mapping[tuple[str, str], float]
    targets: Mapping[str, float]
    net: Mapping[str, float] = field(default_factory=dict)


def slerp(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    """Spherical interpolation (the natural path between Gaussian latents); lerp when nearly parallel."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-8 or nb < 1e-8:
        return (1.0 - f) * a + f * b
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    if omega < 1e-4:
        return (1.0 - f) * a + f * b
    s = math.sin(omega)
    return (math.sin((1.0 - f) * omega) / s) * a + (math.sin(f * omega) / s) * b


def keyframe_latent(keyframes: np.ndarray, position: float) -> np.ndarray:
    """The latent at `position` 0..1 along the keyframes (K, Z), slerped between neighbours."""
    k = keyframes.shape[0]
    if k == 1:
        return keyframes[0].copy()
    s = min(max(position, 0.0), 1.0) * (k - 1)
    i = min(int(s), k - 2)
    return slerp(keyframes[i], keyframes[i + 1], s - i)


class MappingEngine:
    """Evaluates validated mappings once per frame (one thread: the engine's).

    Args:
        specs: mappings (from load_mappings / parse_mappings); targets are resolved and checked
            here against the model and the shader chain (MappingError lists every problem).
        latent_dim, directions: from the model (directions: name -> (Z,) vector, normalised here).
        keyframes: (K, Z) latents for the `keyframes` target, or None.
        base_latent: (Z,) the latent when nothing is mapped; zeros if None.
        shader_params: the chain's (pass, param) pairs, to check shader targets; None skips the check.
        shader_ranges / shader_defaults: per (pass, param), the real range for 0..1 holds and the
            base value for mappings.
        net_params: the model's live network parameters, name -> (low, high, default) (its net_params());
            net_base: the scene's values for some of them.
    """

    def __init__(self, specs: Sequence[MappingSpec], latent_dim: int, directions: Mapping[str, np.ndarray] | None = None,
                 keyframes: np.ndarray | None = None, base_latent: np.ndarray | None = None, *,
                 shader_params: Sequence[tuple[str, str]] | None = None,
                 shader_ranges: Mapping[tuple[str, str], tuple[float, float]] | None = None,
                 shader_defaults: Mapping[tuple[str, str], float] | None = None,
                 base_mix: float = 0.0, latent_span: float = 3.0, direction_span: float = 3.0,
                 net_params: Mapping[str, tuple[float, float, float]] | None = None,
                 net_base: Mapping[str, float] | None = None) -> None:
        self.latent_dim = int(latent_dim)
        self.directions = {n: _unit_vector(v, latent_dim, n) for n, v in (directions or {}).items()}
        self.keyframes = None if keyframes is None else np.asarray(keyframes, dtype=np.float32)
        if self.keyframes is not None and (self.keyframes.ndim != 2 or self.keyframes.shape[1] != latent_dim
                                           or self.keyframes.shape[0] < 1):
            raise MappingError(f"keyframes: expected shape (K >= 1, {latent_dim}), got {self.keyframes.shape}")
        base = np.zeros(latent_dim, np.float32) if base_latent is None else np.asarray(base_latent, np.float32)
        if base.shape != (latent_dim,):
            raise MappingError(f"base latent: expected shape ({latent_dim},), got {base.shape}")
        self.base_latent = base.copy()
        ctx = TargetContext(latent_dim, frozenset(self.directions),
                            0 if self.keyframes is None else self.keyframes.shape[0],
                            None if shader_params is None else frozenset(map(tuple, shader_params)),
                            frozenset(net_params or ()))
        self.specs = validate_specs(specs, ctx)
        self.net_ranges = dict(net_params or {})
        self.net_base: dict[str, float] = {}
        unknown = sorted(set(net_base or ()) - set(self.net_ranges))
        if unknown:
            raise MappingError(f"the scene sets {unknown[0]!r}, which its model does not declare "
                               f"(it has: {', '.join(sorted(self.net_ranges)) or 'none'})")
        self.net_base = {n: self._clamp(n, float(v)) for n, v in (net_base or {}).items()}
        self._shader_names = ctx.shader_params
        self.shader_ranges = dict(shader_ranges or {})
        self.shader_defaults = dict(shader_defaults or {})
        self.base_mix = float(base_mix)
        self.latent_span = float(latent_span)
        self.direction_span = float(direction_span)
        self._smoothers = [Smoother(s.smooth) for s in self.specs]
        self._targets = tuple(dict.fromkeys(s.target for s in self.specs))
        self._target_set = frozenset(self._targets)
        neutral = FaceObservation.absent(0.0, 0).features  # a face not seen yet reads as a neutral face
        self._last_source = [float(neutral[s.source_name]) if s.source_kind == "face" else _rest(s) for s in self.specs]
        self._t0: float | None = None
        self._t_prev: float | None = None
        self._beat = 0.0

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the OSC inputs the mappings read (for Router.declare)."""
        return tuple(sorted({s.source_name for s in self.specs if s.source_kind == "in"}))

    def reset(self) -> None:
        """Start again: elapsed time 0, beat 0, smoothers empty."""
        self._t0 = self._t_prev = None
        self._beat = 0.0
        for sm in self._smoothers:
            sm.reset()

    def sync_beat(self, beat: int | None = None, t_s: float | None = None, tempo_bpm: float = 120.0) -> None:
        """A beat happened at t_s (/perform/beat): the phase is first carried on to t_s at `tempo_bpm` (the
        event may fall between two frames), then snapped to `beat`, or to the nearest whole beat."""
        if t_s is not None and self._t_prev is not None and t_s > self._t_prev:
            self._beat += (t_s - self._t_prev) * max(tempo_bpm, 0.0) / 60.0
            self._t_prev = t_s
        self._beat = float(beat) if beat is not None else float(round(self._beat))

    @property
    def beat(self) -> float:
        return self._beat

    def evaluate(self, t_s: float, inputs: Mapping[str, float], face: Mapping[str, float], tempo_bpm: float = 120.0,
                 *, keys: Mapping[str, float] | None = None, overrides: Mapping[str, float] | None = None,
                 midi: Mapping[str, float] | None = None, audio: Mapping[str, float] | None = None) -> MappedParams:
        """One frame's parameters at time t_s (seconds, increasing). midi: ControlState.midi; `audio`: the audio
        signals by name (AudioValues.sources()), none when there is no audio input."""
        if self._t0 is None:
            self._t0 = self._t_prev = t_s
        dt = max(0.0, t_s - self._t_prev)
        self._t_prev = max(self._t_prev, t_s)
        self._beat += dt * max(tempo_bpm, 0.0) / 60.0
        keys = keys or {}
        midi = midi or {}
        audio = audio or {}

        replaced: dict[str, float] = {}
        summed: dict[str, float] = {}
        scaled: dict[str, float] = {}
        for j, s in enumerate(self.specs):
            x = self._read(j, s, t_s, inputs, face, keys, midi, audio)
            u = unit(x, *s.in_range)
            if s.invert:
                u = 1.0 - u
            u = self._smoothers[j](curve(u, s.curve, s.k), t_s)
            y = s.out_range[0] + u * (s.out_range[1] - s.out_range[0])
            if s.combine == "replace":
                replaced[s.target] = y
            elif s.combine == "sum":
                summed[s.target] = summed.get(s.target, 0.0) + y
            else:
                scaled[s.target] = scaled.get(s.target, 1.0) * y
        held = self._held(overrides) if overrides else {}

        def final(n: str, base: float) -> float:
            if n in held:
                return held[n]
            return (replaced.get(n, base) + summed.get(n, 0.0)) * scaled.get(n, 1.0)

        # a fixed order (mappings' order, then holds sorted): float sums must not depend on set order
        names = self._targets + tuple(sorted(n for n in held if n not in self._target_set))
        values: dict[str, float] = {}
        for n in names:
            if not n.startswith("latent."):
                values[n] = final(n, self._base(n))
        pos = values.get("keyframes")
        latent = (keyframe_latent(self.keyframes, pos) if pos is not None and self.keyframes is not None
                  else self.base_latent).astype(np.float32, copy=True)  # (Z,)
        shader: dict[tuple[str, str], float] = {}
        mix = self.base_mix
        for n in names:
            if n.startswith("latent."):
                values[n] = latent[int(n[7:])] = final(n, float(latent[int(n[7:])]))
        for n, v in values.items():
            kind, _, rest = n.partition(".")
            if kind == "direction":
                latent += np.float32(v) * self.directions[rest]
            elif kind == "shader":
                p, _, q = rest.partition(".")
                shader[(p, q)] = v
            elif kind == "mix":
                mix = values[n] = min(max(v, 0.0), 1.0)
        net = {}
        for n in sorted(set(self.net_base) | {n for n in values if n.partition(".")[0] in NET_KINDS}):
            net[n] = values[n] = self._clamp(n, values.get(n, self.net_base.get(n, 0.0)))
        for n, v in held.items():  # a held coordinate is final: directions do not move it
            if n.startswith("latent."):
                latent[int(n[7:])] = v
        if not np.all(np.isfinite(latent)):  # a NaN must never reach the generator
            latent = np.nan_to_num(latent, nan=0.0, posinf=0.0, neginf=0.0)
        return MappedParams(t_s, latent, mix, types.MappingProxyType(shader), types.MappingProxyType(values),
                            types.MappingProxyType(net))

    def _clamp(self, name: str, v: float) -> float:
        """A network parameter within its range; a non-finite one is the scene's value (or the default)."""
        lo, hi, default = self.net_ranges[name]
        if not math.isfinite(v):
            v = self.net_base.get(name, default)
        return min(max(v, lo), hi)

    def _read(self, j: int, s: MappingSpec, t_s: float, inputs, face, keys, midi, audio) -> float:
        kind, name = s.source_kind, s.source_name
        if kind == "lfo":
            cycles = (self._beat / s.beats) if s.beats else (t_s - self._t0) * s.rate_hz
            return s.in_range[0] + lfo(name, cycles + s.phase, s.seed) * (s.in_range[1] - s.in_range[0])
        if kind == "time":
            return t_s - self._t0
        src = inputs if kind == "in" else face if kind == "face" else midi if kind == "midi" else audio if kind == "audio" else keys
        v = src.get(name)
        if v is None or not math.isfinite(v):
            return self._last_source[j]  # not sent yet / lost: hold the last good value
        self._last_source[j] = float(v)
        return float(v)

    def _base(self, target: str) -> float:
        kind, _, rest = target.partition(".")
        if kind == "mix":
            return self.base_mix
        if kind == "shader":
            p, _, q = rest.partition(".")
            return float(self.shader_defaults.get((p, q), 0.0))
        if kind in NET_KINDS:
            return self.net_base.get(target, self.net_ranges[target][2])
        return 0.0

    def _held(self, overrides: Mapping[str, float]) -> dict[str, float]:
        """Direct holds (0..1 as sent) in target units; unknown targets are ignored (the router checks)."""
        out: dict[str, float] = {}
        for n, v in overrides.items():
            kind, _, rest = n.partition(".")
            if kind == "latent" and rest.isdigit() and int(rest) < self.latent_dim:
                out[n] = (2.0 * v - 1.0) * self.latent_span
            elif kind == "direction" and rest in self.directions:
                out[n] = (2.0 * v - 1.0) * self.direction_span
            elif kind in ("mix", "keyframes"):
                out[n] = v
            elif kind == "shader":
                p, _, q = rest.partition(".")
                if self._shader_names is not None and (p, q) not in self._shader_names:
                    continue  # a hold for a pass of another scene's chain
                lo, hi = self.shader_ranges.get((p, q), (0.0, 1.0))
                out[n] = lo + v * (hi - lo)
            elif kind in NET_KINDS and n in self.net_ranges and math.isfinite(v):
                lo, hi, _ = self.net_ranges[n]
                out[n] = lo + v * (hi - lo)
        return out


def _rest(s: MappingSpec) -> float:
    """A source's value before anything arrives: the bottom of its range; a pitch bend's rest is its centre."""
    return 0.0 if s.source.startswith("midi.bend.") else s.in_range[0]


def _unit_vector(v: np.ndarray, latent_dim: int, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32).reshape(-1)
    if a.shape != (latent_dim,):
        raise MappingError(f"direction {name!r}: expected shape ({latent_dim},), got {a.shape}")
    n = float(np.linalg.norm(a))
    return a / n if n > 0 else a
