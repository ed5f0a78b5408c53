"""The one table of metric directions and scales, and the `--weights` parser that checks names against a run.

A metric the table does not list still counts (a recipe may add one tomorrow): it is taken as higher-better
on a scale of 1, and `name:lower=W` flips the direction for one run without a code change.
"""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How to read one metric: which way is better, and a typical spread (for scores that compare runs)."""

    higher_better: bool
    scale: float = 1.0   # about the difference between a poor and a good value; divides raw values in `scale` mode
    note: str = ""


# by base name (a pair run's `a.diversity` and `b.diversity` are both `diversity`)
METRICS: dict[str, MetricSpec] = {
    "psnr_db": MetricSpec(True, 5.0, "held-out reconstruction PSNR, dB"),
    "ssim": MetricSpec(True, 0.2, "held-out reconstruction SSIM"),
    "l1": MetricSpec(False, 0.1, "held-out reconstruction L1 on [-1, 1]"),
    "diversity": MetricSpec(True, 0.1, "batch diversity on a fixed latent batch (0 = mode collapse)"),
    "vendi": MetricSpec(True, 5.0, "Vendi score of a fixed latent batch (effective number of different images)"),
    "colourfulness": MetricSpec(True, 20.0, "Hasler-Suesstrunk colourfulness, 0..~100"),
    "sharpness": MetricSpec(True, 1.0),
    "novelty": MetricSpec(True, 0.1),
    "fid": MetricSpec(False, 20.0),
    "kid": MetricSpec(False, 0.02),
    "critic_accuracy": MetricSpec(False, 0.2, "pair: the critic telling A from B (lower: the pair is closer to its equilibrium)"),
    "change_since_snapshot": MetricSpec(True, 0.05, "pair: how far the images moved since the last snapshot"),
    "change": MetricSpec(True, 0.05, "pair: change since the previous health check"),
    # losses and gradients averaged since the last snapshot: lower is calmer, not always better
    "loss": MetricSpec(False, 1.0, "a training loss"),
    "grad_norm": MetricSpec(False, 1.0, "gradient norm before clipping"),
    "deception": MetricSpec(False, 1.0, "pair loss term"),
    "colour": MetricSpec(False, 1.0, "pair loss term (relative colour)"),
    "embedding": MetricSpec(False, 1.0, "pair loss term"),
    "pixel": MetricSpec(False, 1.0, "pair loss term (pixel diversity)"),
    "smoothness": MetricSpec(False, 1.0, "pair loss term"),
}

ALIASES = {"psnr": "psnr_db"}

# columns that are bookkeeping or properties of the data, never of the model
NOT_METRICS = frozenset({"step", "time_s", "events", "images_per_s", "lr_g", "lr_d"})
NOT_METRIC_PREFIXES = ("data_",)


def base_name(column: str) -> str:
    """`a.diversity` -> `diversity`; `psnr_db` -> `psnr_db`."""
    return column.rsplit(".", 1)[-1]


def spec_for(column: str) -> MetricSpec:
    return METRICS.get(base_name(column), MetricSpec(True, 1.0, "not in the table: taken as higher-better"))


def is_metric(column: str) -> bool:
    return column not in NOT_METRICS and not base_name(column).startswith(NOT_METRIC_PREFIXES)


@dataclass(frozen=True, slots=True)
class Weight:
    """One term of the weighted score."""

    metric: str
    weight: float
    higher_better: bool
    scale: float


def parse_weights(text: str, valid: list[str]) -> list[Weight]:
    """`psnr=1,diversity=0.5,l1:lower=2` checked against a run's metric columns `valid`.

    Raises ValueError naming the valid metrics for an unknown one (the commands turn it into a usage error).
    """
    out: list[Weight] = []
    seen: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"{part!r}: expected METRIC=WEIGHT, e.g. psnr_db=1")
        given, _, direction = name.strip().partition(":")
        name = given if given in valid else ALIASES.get(given, given)
        if name not in valid:
            raise ValueError(f"unknown metric {given!r}; this run has: {', '.join(valid)}")
        if name in seen:
            raise ValueError(f"metric {name!r} given twice")
        try:
            w = float(value)
        except ValueError:
            raise ValueError(f"{part!r}: the weight must be a number") from None
        if not w > 0 or w != w or w == float("inf"):
            raise ValueError(f"{part!r}: the weight must be above 0 (use :lower to prefer low values)")
        spec = spec_for(name)
        if direction not in ("", "lower", "higher"):
            raise ValueError(f"{part!r}: the direction after ':' must be 'lower' or 'higher'")
        higher = spec.higher_better if not direction else direction == "higher"
        seen.add(name)
        out.append(Weight(name, w, higher, spec.scale))
    if not out:
        raise ValueError(f"no weights given; this run has: {', '.join(valid)}")
    return out


def describe(valid: list[str]) -> str:
    """One line per metric: name, direction, what it is (for --list-metrics)."""
    lines = []
    for name in valid:
        s = spec_for(name)
        lines.append(f"  {name:28s} {'higher' if s.higher_better else 'lower'} is better  {s.note}")
    return "\n".join(lines)

