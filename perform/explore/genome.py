"""Genomes and breeding: a latent plus named direction offsets (plus live network parameters, where a model
declares them); seeded mutation and crossover that reproduce bit for bit from (seed, parents, choices).

A genome's image is `model.generate(space.express(genome))`: the latent moved along the card's unit
directions by the offsets, as the mapping engine moves it (perform/mapping/engine.py), so a favourite
exported as a keyframe is the same latent a setlist plays.

Extension point, live network parameters (docs/explore.md; the bend and blend contract): a model that has
`net_params() -> {name: (low, high, default)}` gets a `net` dict in every genome, started at the defaults,
perturbed by mutation within (low, high) and crossed per key; before drawing a genome the images module calls
`model.set_net_params(genome.net)`. A model without the method keeps `net` empty and nothing else changes.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from perform.setlist.keyframes import slerp

# Mutation of a direction offset: in all, about this many unit lengths along the card's directions at
# strength 1, shared over the directions (23 on face-64: each moves 2/sqrt(23) ~ 0.4 sd), so the named
# directions season the latent mutation instead of swamping it.
DIRECTION_SCALE = 2.0
DIRECTION_SPAN = 3.0    # offsets stay within +-3, the span a direction hold reaches (mapping/engine.py)
NET_SCALE = 0.25        # a net parameter moves 0.25 of its range per unit strength (clamped to the range)
CROSS_T = (0.25, 0.75)  # crossover blends two parents' latents at t drawn here: a real mix, never a copy

_EMPTY: Mapping[str, float] = types.MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class Genome:
    """latent (Z,) float32 in the model's latent space; offsets along named unit directions of the card;
    net: live network parameters by name (empty unless the model declares `net_params()`)."""

    latent: np.ndarray
    directions: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    net: Mapping[str, float] = field(default_factory=lambda: _EMPTY)

    def to_json(self) -> dict[str, Any]:
        # float32 -> Python float is exact, and json writes the shortest repr that reads back to it
        return {"latent": [float(x) for x in self.latent], "directions": dict(sorted(self.directions.items())),
                "net": dict(sorted(self.net.items()))}

    @classmethod
    def from_json(cls, d: Mapping[str, Any], latent_dim: int) -> "Genome":
        """Raises ValueError naming what is wrong."""
        lat = np.asarray(d.get("latent"), dtype=np.float32)
        if lat.shape != (latent_dim,) or not np.isfinite(lat).all():
            raise ValueError(f"latent has shape {lat.shape} (or a non-finite value), expected ({latent_dim},) finite")
        return cls(lat, _numbers(d.get("directions", {}), "directions"), _numbers(d.get("net", {}), "net"))


def _numbers(d: Any, what: str) -> Mapping[str, float]:
    if not isinstance(d, Mapping) or not all(isinstance(k, str) and isinstance(v, (int, float)) and math.isfinite(v)
                                             for k, v in d.items()):
        raise ValueError(f"{what} must be a table of finite numbers by name")
    return types.MappingProxyType({k: float(v) for k, v in sorted(d.items())})


def same(a: Genome, b: Genome) -> bool:
    """Bit-for-bit equality (what replaying a lineage must give)."""
    return (a.latent.dtype == b.latent.dtype and a.latent.tobytes() == b.latent.tobytes()
            and dict(a.directions) == dict(b.directions) and dict(a.net) == dict(b.net))


@dataclass(frozen=True, slots=True, eq=False)
class GenomeSpace:
    """What a model offers genomes: its latent distribution (the card's `latent_stats`, else N(0, 1)), its
    named unit directions, and its live network parameters (name -> (low, high, default))."""

    mean: np.ndarray                      # (Z,) float32
    std: np.ndarray                       # (Z,) float32, > 0
    directions: Mapping[str, np.ndarray]  # name -> (Z,) unit vector, sorted by name
    net_params: Mapping[str, tuple[float, float, float]] = field(default_factory=lambda: types.MappingProxyType({}))

    @property
    def latent_dim(self) -> int:
        return int(self.mean.shape[0])

    def express(self, g: Genome) -> np.ndarray:
        """The latent the model draws: (Z,) float32 = latent + sum(offset * unit direction), in name order."""
        z = np.array(g.latent, dtype=np.float32, copy=True)
        for name, off in g.directions.items():
            vec = self.directions.get(name)
            if vec is not None and off != 0.0:
                z += np.float32(off) * vec
        return z


def space_of(model: Any) -> GenomeSpace:
    """The GenomeSpace of a loaded model (a GenerativeModel; torch is not touched here)."""
    z = int(model.latent_dim)
    mean, std = np.zeros(z, np.float32), np.ones(z, np.float32)
    stats = (model.info.card or {}).get("latent_stats") if getattr(model, "info", None) else None
    if isinstance(stats, Mapping):
        m = np.asarray(stats.get("mean", ()), np.float32)
        s = np.asarray(stats.get("std", ()), np.float32)
        if m.shape == (z,) and s.shape == (z,) and np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all():
            mean, std = m, s
    dirs = {n: np.asarray(v, np.float32) for n, v in sorted((model.directions or {}).items())}
    net: dict[str, tuple[float, float, float]] = {}
    declared = getattr(model, "net_params", None)
    if callable(declared):
        for name, (lo, hi, default) in sorted(declared().items()):
            lo, hi, default = float(lo), float(hi), float(default)
            if math.isfinite(lo) and math.isfinite(hi) and lo < hi and lo <= default <= hi:
                net[name] = (lo, hi, default)
    return GenomeSpace(mean, std, types.MappingProxyType(dirs), types.MappingProxyType(net))


def random_genome(space: GenomeSpace, rng: np.random.Generator) -> Genome:
    """A draw from the model's latent distribution; direction offsets 0, net parameters at their defaults."""
    u = rng.standard_normal(space.latent_dim)
    z = (space.mean + space.std * u).astype(np.float32)
    return Genome(z, types.MappingProxyType({n: 0.0 for n in space.directions}),
                  types.MappingProxyType({n: d for n, (_lo, _hi, d) in space.net_params.items()}))


def mutate(g: Genome, strength: float, space: GenomeSpace, rng: np.random.Generator) -> Genome:
    """Gaussian mutation. The latent moves in the model's standardised space u = (z - mean) / std as
    u' = (u + s e) / sqrt(1 + s^2): a variance-preserving step, so a child of a typical latent is as typical
    as its parent at any strength (renormalised to the model's distribution). Strength 0 returns `g` itself.
    The random draws do not depend on the strength: the same seed moves the same way, further."""
    s = float(strength)
    if not math.isfinite(s) or s < 0:
        raise ValueError(f"mutation strength {strength!r} must be a finite number >= 0")
    if s == 0.0:
        return g
    e = rng.standard_normal(space.latent_dim)
    u = (g.latent.astype(np.float64) - space.mean) / space.std
    z = (space.mean + space.std * ((u + s * e) / math.sqrt(1.0 + s * s))).astype(np.float32)
    names = sorted(g.directions)
    ed = rng.standard_normal(len(names))
    sd = s * DIRECTION_SCALE / math.sqrt(max(len(space.directions), 1))
    dirs = {n: float(np.clip(g.directions[n] + sd * x, -DIRECTION_SPAN, DIRECTION_SPAN)) for n, x in zip(names, ed)}
    net = {}
    keys = sorted(g.net)
    en = rng.standard_normal(len(keys))
    for n, x in zip(keys, en):
        lo, hi, _ = space.net_params.get(n, (-math.inf, math.inf, 0.0))
        width = hi - lo if math.isfinite(hi - lo) else 1.0
        net[n] = float(np.clip(g.net[n] + s * NET_SCALE * width * x, lo, hi))
    return Genome(z, types.MappingProxyType(dirs), types.MappingProxyType(net))


def crossover(a: Genome, b: Genome, space: GenomeSpace, rng: np.random.Generator) -> Genome:
    """A child of two parents: latents slerped (in the standardised space, at t in CROSS_T), direction
    offsets and net parameters taken per key from one parent or the other. A genome crossed with itself is
    itself."""
    if same(a, b):
        return a
    t = float(rng.uniform(*CROSS_T))
    ua = (a.latent.astype(np.float64) - space.mean) / space.std
    ub = (b.latent.astype(np.float64) - space.mean) / space.std
    z = (space.mean + space.std * slerp(ua, ub, t).astype(np.float64)).astype(np.float32)
    if a.latent.tobytes() == b.latent.tobytes():
        z = a.latent
    return Genome(z, _per_key(a.directions, b.directions, rng), _per_key(a.net, b.net, rng))


def _per_key(a: Mapping[str, float], b: Mapping[str, float], rng: np.random.Generator) -> Mapping[str, float]:
    names = sorted(set(a) | set(b))
    coin = rng.random(len(names)) < 0.5
    out = {}
    for n, from_a in zip(names, coin):
        src = a if (from_a and n in a) or n not in b else b
        out[n] = float(src[n])
    return types.MappingProxyType(out)
