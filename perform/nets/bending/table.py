"""The bend transforms and their parameters, as plain data (no torch: `perform check` reads it first).

A bend is one transform on one layer's feature maps. Its live parameters are `bend.<name>.<param>`; each
has a range and an identity value, and a bend whose strength parameters are all at identity is skipped
(the image is bit-identical to no bend at all).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True, slots=True)
class Param:
    low: float
    high: float
    identity: float  # the value that leaves the feature maps as they are (also the default)


@dataclass(frozen=True, slots=True)
class Transform:
    kind: str                     # "spatial" (moves the maps) or "channel" (changes values per channel)
    params: Mapping[str, Param]
    strength: tuple[str, ...]     # the parameters whose identity values make the whole bend identity
    help: str


def _t(kind: str, help: str, strength: tuple[str, ...] | None = None, **params: tuple[float, float, float]) -> Transform:
    return Transform(kind, {k: Param(*v) for k, v in params.items()}, strength or tuple(params), help)


TRANSFORMS: Mapping[str, Transform] = {
    "rotate": _t("spatial", "rotate the maps by `angle` degrees", angle=(-180.0, 180.0, 0.0)),
    "scale": _t("spatial", "stretch the maps by `x` and `y` (1 = as they are)", x=(0.1, 4.0, 1.0), y=(0.1, 4.0, 1.0)),
    "translate": _t("spatial", "move the maps by `x`, `y` (fractions of the map; 1 moves it a whole width)",
                    x=(-1.0, 1.0, 0.0), y=(-1.0, 1.0, 0.0)),
    "flip": _t("spatial", "mirror the maps left-right by `x`, top-bottom by `y` (0.5 squashes flat, 1 mirrors)",
               x=(0.0, 1.0, 0.0), y=(0.0, 1.0, 0.0)),
    "zoom": _t("spatial", "zoom into the maps by `factor` around (`cx`, `cy`)", ("factor",),
               factor=(0.25, 4.0, 1.0), cx=(-1.0, 1.0, 0.0), cy=(-1.0, 1.0, 0.0)),
    "ablate": _t("channel", "switch channels off (`amount` 1 = fully off)", amount=(0.0, 1.0, 0.0)),
    "invert": _t("channel", "turn each map inside out (its maximum minus itself)", amount=(0.0, 1.0, 0.0)),
    "threshold": _t("channel", "zero what is below `level` times each map's maximum", level=(0.0, 1.0, 0.0)),
    "binarise": _t("channel", "push each map towards on/off about its mean", amount=(0.0, 1.0, 0.0)),
    "erode": _t("channel", "shrink what each map holds (`radius` in map pixels)", radius=(0.0, 4.0, 0.0)),
    "dilate": _t("channel", "grow what each map holds (`radius` in map pixels)", radius=(0.0, 4.0, 0.0)),
    "sine-fold": _t("channel", "fold the values through a sine of `frequency`", ("amount",),
                    amount=(0.0, 1.0, 0.0), frequency=(0.1, 20.0, 3.0)),
    "noise": _t("channel", "add seeded noise (`amount` in the maps' units); `step` moves through noise fields "
                "smoothly (same seed and step, same noise)", ("amount",), amount=(0.0, 4.0, 0.0), step=(0.0, 1e6, 0.0)),
}

TARGET_HELP = '"all", "random:<fraction>" or "cluster:<index>"'
_RANDOM = re.compile(r"random:([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)")
_CLUSTER = re.compile(r"cluster:(\d{1,4})")


def parse_target(target: str) -> tuple[str, float | int | None] | None:
    """'all' -> ('all', None); 'random:0.25' -> ('random', 0.25); 'cluster:2' -> ('cluster', 2); else None."""
    if target == "all":
        return ("all", None)
    m = _RANDOM.fullmatch(target)
    if m:
        f = float(m.group(1))
        return ("random", f) if 0.0 < f <= 1.0 and math.isfinite(f) else None
    m = _CLUSTER.fullmatch(target)
    if m:
        return ("cluster", int(m.group(1)))
    return None


@dataclass(frozen=True, slots=True)
class BendSpec:
    """One bend as a setlist declares it: `params` are its starting values ((param, value) pairs, sorted)."""

    name: str
    layer: str
    transform: str
    target: str = "all"
    seed: int = 0
    params: tuple[tuple[str, float], ...] = ()

    @property
    def structure(self) -> tuple:
        """What the network needs built (the values are live)."""
        return (self.name, self.layer, self.transform, self.target, self.seed)

    def as_tuple(self) -> tuple:
        """Plain data for another process (the inference child)."""
        return (self.name, self.layer, self.transform, self.target, self.seed, tuple(self.params))

    def param_names(self) -> tuple[str, ...]:
        return tuple(f"bend.{self.name}.{p}" for p in TRANSFORMS[self.transform].params)


def is_identity(transform: str, values: Mapping[str, float]) -> bool:
    t = TRANSFORMS[transform]
    return all(values[p] == t.params[p].identity for p in t.strength)
