"""The named per-image metrics, and weights over named metrics: parsed, checked and combined in one place.

No torch here: `perform curate --weights ...` is checked while the command line is parsed (a usage error
naming the valid metrics), before any model loads. The functions that compute the metrics are in
perform.quality.image_metrics (`METRIC_FUNCTIONS`) and perform.quality.novelty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What a metric measures, in which unit, and whether it needs reference images (the training crops)."""

    name: str
    description: str
    unit: str
    needs_reference: bool = False


IMAGE_METRICS: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("colourfulness", "Hasler-Süsstrunk colourfulness M (about 0 grey, 33 moderately, 59 quite, 82+ extremely "
               "colourful)", "0..255 scale"),
    MetricInfo("sharpness", "variance of the Laplacian of the luma (3x3, valid pixels): fine detail and edges; "
               "high for noise too", "(0..255 luma)^2"),
    MetricInfo("novelty", "distance to the nearest training crop: in the encoder's latent space for a VAE-GAN "
               "whose card names its data, else RMS pixel difference at 16x16", "RMS per dimension", True),
)}


class WeightsError(ValueError):
    """A weights string that cannot be used; the message names the problem and the valid metric names."""


def parse_weights(text: str, valid: Iterable[str], what: str = "metric") -> dict[str, float]:
    """'name=w,name=w' -> {name: w}, in the order given.

    Every name must be one of `valid` (an unknown name is refused listing the valid ones), each weight a
    finite number (negative weights prefer low values), each name given once, and at least one weight
    not zero. `what` names the kind of thing in messages ("metric", "snapshot metric").
    """
    names = list(valid)
    listing = ", ".join(names)
    out: dict[str, float] = {}
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise WeightsError(f"no weights given; expected NAME=WEIGHT[,NAME=WEIGHT...] with {what}s from: {listing}")
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise WeightsError(f"{item!r}: expected NAME=WEIGHT, e.g. {names[0]}=1; {what}s: {listing}")
        if name not in names:
            raise WeightsError(f"unknown {what} {name!r}; valid {what}s: {listing}")
        try:
            w = float(value)
        except ValueError:
            raise WeightsError(f"{item!r}: the weight of {name} must be a number") from None
        if not math.isfinite(w):
            raise WeightsError(f"{item!r}: the weight of {name} must be finite")
        if name in out:
            raise WeightsError(f"{name} is given twice")
        out[name] = w
    if not any(out.values()):
        raise WeightsError("every weight is 0: nothing to rank by")
    return out


def format_weights(weights: Mapping[str, float]) -> str:
    """The inverse of parse_weights: 'colourfulness=1,novelty=2'."""
    return ",".join(f"{k}={v:g}" for k, v in weights.items())


def normalise(values: np.ndarray) -> np.ndarray:
    """z-scores over the candidates: (v - mean) / std, so metrics in different units add up. NaN (not
    measured) becomes 0, the average; a metric equal for every candidate contributes 0."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    out = np.zeros_like(v)
    if ok.sum() < 2:
        return out
    mean, std = v[ok].mean(), v[ok].std()
    if std > 1e-12:
        out[ok] = (v[ok] - mean) / std
    return out


def combine(scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted sum of each metric's z-scores: sum_m w_m * normalise(scores[m]). Returns (N,) float64.

    Raises KeyError naming a weighted metric that `scores` lacks."""
    missing = [m for m, w in weights.items() if w and m not in scores]
    if missing:
        raise KeyError(f"no scores for weighted metric(s) {missing}; scored: {sorted(scores)}")
    n = len(next(iter(scores.values()))) if scores else 0
    total = np.zeros(n, dtype=np.float64)
    for name, w in weights.items():
        if w:
            total += w * normalise(scores[name])
    return total
