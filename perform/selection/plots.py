"""PNG plots for select (each metric over the training steps, the choice marked) and search (trials).

matplotlib with the Agg backend (no display needed); imported inside the functions so that importing the
selection package, and building the `perform` parser, stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from perform.selection.ranking import Ranked
from perform.selection.runs import Run
from perform.selection.table import Weight

MAX_PANELS = 16


def _pyplot():
    import matplotlib  # lazily: seconds to import, and only the plotting commands need it

    matplotlib.use("Agg")  # before pyplot: no display
    import matplotlib.pyplot as plt

    return plt


def plot_selection(run: Run, ranked: list[Ranked], weights: list[Weight], top: int, path: str | Path) -> Path:
    """One panel per metric (weighted ones first, then the score), steps on x; the chosen step marked."""
    plt = _pyplot()
    weighted = [w.metric for w in weights]
    others = sorted((m for m in run.metrics if m not in weighted), key=lambda m: ("." in m, m))  # pair means first
    names = (weighted + others)[: MAX_PANELS - 1]
    panels = ["score"] + names
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
    score = {r.snapshot.step: r.score for r in ranked}
    chosen = [r.snapshot.step for r in ranked[:top]]
    steps = [s.step for s in run.snapshots]
    for ax, name in zip(axes.flat, panels):
        if name == "score":
            ys = [score[s] for s in steps]
            ax.set_title("weighted score", fontsize=9, fontweight="bold")
        else:
            ys = [s.values.get(name, math.nan) for s in run.snapshots]
            w = next((w for w in weights if w.metric == name), None)
            label = f"{name} (w {w.weight:g}, {'higher' if w.higher_better else 'lower'} better)" if w else name
            ax.set_title(label, fontsize=9, fontweight="bold" if w else "normal")
        ax.plot(steps, ys, "-o", ms=3, lw=1.2, color="#3465a4")
        for k, step in enumerate(chosen):
            ax.axvline(step, color="#cc0000" if k == 0 else "#f5a3a3", lw=1.5 if k == 0 else 1, zorder=0)
        y_best = ys[steps.index(chosen[0])] if chosen else math.nan
        if math.isfinite(y_best):
            ax.plot([chosen[0]], [y_best], "o", ms=7, mfc="none", mec="#cc0000", mew=2)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("step", fontsize=7)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    best = ranked[0]
    fig.suptitle(f"{run.path.name}: step {best.snapshot.step} chosen (score {best.score:.3f}, red line)"
                 + (f"; next {len(chosen) - 1} in pink" if len(chosen) > 1 else ""), fontsize=10)
    return _save(plt, fig, path)


def plot_search(rows: Sequence[dict[str, Any]], params: Sequence[str], path: str | Path) -> Path:
    """Objective per trial (pruned trials as grey crosses at their last report, the best so far as a line) and
    the objective against each parameter."""
    plt = _pyplot()
    done = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None]
    pruned = [r for r in rows if r["state"] == "PRUNED" and r.get("last_value") is not None]
    panels = 1 + len(params)
    cols = min(3, panels)
    nrows = math.ceil(panels / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.0 * cols, 3.0 * nrows), squeeze=False)
    ax = axes.flat[0]
    ax.plot([r["trial"] for r in done], [r["value"] for r in done], "o", color="#3465a4", label="complete")
    ax.plot([r["trial"] for r in pruned], [r["last_value"] for r in pruned], "x", color="#888888", label="pruned (last report)")
    best, xs, ys = -math.inf, [], []
    for r in sorted(done, key=lambda r: r["trial"]):
        best = max(best, r["value"])
        xs.append(r["trial"])
        ys.append(best)
    ax.step(xs, ys, where="post", color="#cc0000", label="best so far")
    ax.set_title("objective per trial", fontsize=9, fontweight="bold")
    ax.set_xlabel("trial", fontsize=8)
    ax.legend(fontsize=7)
    for ax, p in zip(list(axes.flat)[1:], params):
        vals = [(r["params"].get(p), r["value"]) for r in done if r["params"].get(p) is not None]
        cut = [(r["params"].get(p), r["last_value"]) for r in pruned if r["params"].get(p) is not None]
        if cut:
            ax.plot([v for v, _ in cut], [o for _, o in cut], "x", color="#888888")
        if vals:
            ax.plot([v for v, _ in vals], [o for _, o in vals], "o", color="#3465a4")
        xs = [v for v, _ in vals + cut]
        if xs and all(isinstance(v, (int, float)) and v > 0 for v in xs) and max(xs) > 20 * min(xs):
            ax.set_xscale("log")
        ax.set_title(p, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[panels:]:
        ax.axis("off")
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: str | Path) -> Path:
    """Lay the figure out, write it as PNG (its folder made) and close it."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
