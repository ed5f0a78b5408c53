"""Ranking snapshots by a weighted sum of normalised metrics.

Each weighted metric is normalised over the snapshots being compared, so that 1 is the best value and 0 the
worst whatever its units, then the score is sum(w_i * n_i) / sum(w_i), in [0, 1]:
- `minmax` (default): n = (v - worst) / (best - worst); distances between snapshots count.
- `rank`: n = the snapshot's rank on that metric, 0 (worst) .. 1 (best), ties sharing the mean rank; an
  outlier cannot swamp the other metrics.
- `scale`: n = v / scale (sign by direction; scale from perform.selection.table), not bounded: a snapshot's
  score then does not depend on the others, which is what a search comparing runs needs.
A snapshot missing a metric scores 0 on it (the worst). Ties go to the later snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from perform.selection.runs import Snapshot
from perform.selection.table import Weight

METHODS = ("minmax", "rank", "scale")


@dataclass(frozen=True, slots=True)
class Ranked:
    """A snapshot with its score, its 1-based rank and the normalised value of each weighted metric."""

    snapshot: Snapshot
    score: float
    rank: int
    normalised: dict[str, float]


def _signed(w: Weight, v: float) -> float:
    return v if w.higher_better else -v


def _minmax(vals: list[float | None]) -> list[float]:
    known = [v for v in vals if v is not None]
    if not known:
        return [0.0] * len(vals)
    lo, hi = min(known), max(known)
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return [0.0 if v is None else 1.0 for v in vals]  # all equal: every snapshot that has it is best
    return [0.0 if v is None else (v - lo) / (hi - lo) for v in vals]


def _ranks(vals: list[float | None]) -> list[float]:
    known = sorted(v for v in vals if v is not None)
    if len(known) <= 1:
        return [0.0 if v is None else 1.0 for v in vals]
    out = []
    for v in vals:
        if v is None:
            out.append(0.0)
            continue
        below = sum(1 for k in known if k < v)
        equal = sum(1 for k in known if k == v)
        out.append((below + (equal - 1) / 2) / (len(known) - 1))
    return out


def normalise(snapshots: list[Snapshot], w: Weight, method: str) -> list[float]:
    """The normalised value of metric w for each snapshot (1 best in minmax and rank)."""
    vals = [None if w.metric not in s.values else _signed(w, s.values[w.metric]) for s in snapshots]
    if method == "minmax":
        return _minmax(vals)
    if method == "rank":
        return _ranks(vals)
    if method == "scale":
        known = [v for v in vals if v is not None]
        floor = min(known) / w.scale if known else 0.0
        return [floor if v is None else v / w.scale for v in vals]  # missing: as bad as the worst seen
    raise ValueError(f"normalisation {method!r}: expected one of {', '.join(METHODS)}")


def rank(snapshots: list[Snapshot] | tuple[Snapshot, ...], weights: list[Weight], method: str = "minmax") -> list[Ranked]:
    """Snapshots best first."""
    snaps = list(snapshots)
    if not snaps:
        return []
    total = sum(w.weight for w in weights)
    columns = {w.metric: normalise(snaps, w, method) for w in weights}
    scored = []
    for i, s in enumerate(snaps):
        norm = {m: col[i] for m, col in columns.items()}
        score = sum(w.weight * norm[w.metric] for w in weights) / total
        scored.append((score, s.step, s, norm))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return [Ranked(s, score, r, norm) for r, (score, _, s, norm) in enumerate(scored, 1)]


def score_one(values: dict[str, float], weights: list[Weight]) -> float:
    """The `scale` score of one set of metric values on its own (a search's objective); missing counts 0."""
    total = sum(w.weight for w in weights)
    return sum(w.weight * _signed(w, values[w.metric]) / w.scale for w in weights if w.metric in values) / total
