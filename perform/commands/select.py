"""`perform select RUN_DIR --weights psnr_db=1,diversity=0.5`: rank a run's snapshots, export the best as a model.

Parses and delegates: perform.selection reads the run (runs.py), ranks (ranking.py), exports (export.py) and
draws the plot (plots.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from perform.commands import options
from perform.errors import PerformError
from perform.selection.ranking import rank
from perform.selection.runs import read_run
from perform.selection.table import describe, parse_weights

DEFAULT_WEIGHTS = {"vaegan": "psnr_db=1,ssim=1,diversity=0.5", "pair": "diversity=1,colourfulness=1"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN_DIR", help="a training run folder (`perform train --out`, or a search trial)")
    p.add_argument("--weights", metavar="M=W,...", help="metric weights, e.g. psnr_db=1,diversity=0.5; 'M:lower=W' "
                   "prefers low values of a metric the table does not know (default: "
                   + "; ".join(f"{k}: {v}" for k, v in DEFAULT_WEIGHTS.items()) + ")")
    p.add_argument("--normalise", choices=("minmax", "rank"), default="minmax",
                   help="per metric over the snapshots: minmax (default: best 1, worst 0) or rank (outliers count less)")
    p.add_argument("--top", type=options.integer(1, 1000, what="a number of models"), default=1,
                   help="export the N best snapshots (OUT, OUT-2, ... OUT-N); default 1")
    p.add_argument("--out", metavar="PATH", help="model to write (PATH.safetensors/.json); default models/<run>-step<N>")
    p.add_argument("--plot", metavar="FILE.png", help="where to draw the metrics (default RUN_DIR/select.png)")
    p.add_argument("--list", action="store_true", help="only list the run's metrics and the ranking; export nothing")


def run(args: argparse.Namespace) -> int:
    # torch (through export) and matplotlib load only when this command runs: every `perform` command builds
    # this command's parser, and they take seconds to import
    from perform.selection.export import export_snapshot
    from perform.selection.plots import plot_selection

    run_ = read_run(args.run)
    valid = list(run_.metrics)
    try:
        weights = parse_weights(args.weights or DEFAULT_WEIGHTS[run_.kind], valid)
    except ValueError as e:  # the valid names depend on the run, so argparse cannot check them: same words, status 2
        raise PerformError(f"argument --weights: {e}") from None
    ranked = rank(run_.snapshots, weights, args.normalise)
    print(f"{run_.path.name}: {run_.kind} run, {len(ranked)} snapshots; metrics:\n{describe(valid)}")
    print("\nrank  step     score  " + "  ".join(f"{w.metric:>12s}" for w in weights) + "  weights")
    for r in ranked[: max(args.top, 10)]:
        vals = "  ".join(f"{r.snapshot.values.get(w.metric, float('nan')):12.4g}" for w in weights)
        print(f"{r.rank:4d}  {r.snapshot.step:5d}  {r.score:8.4f}  {vals}  {'kept' if r.snapshot.weights else 'none'}")
    plot = plot_selection(run_, ranked, weights, args.top, args.plot or run_.path / "select.png")
    print(f"plot: {plot}")
    if args.list:
        return 0
    base = Path(args.out) if args.out else Path("models") / f"{run_.path.name}-step{ranked[0].snapshot.step}"
    for k, chosen in enumerate(ranked[: args.top]):
        out = base if k == 0 else base.with_name(f"{base.name}-{k + 1}")
        path = export_snapshot(run_, chosen, weights, args.normalise, out)
        print(f"exported rank {chosen.rank} (step {chosen.snapshot.step}, score {chosen.score:.4f}): {path}")
    return 0
