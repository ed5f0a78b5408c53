"""`perform search RECIPE --trials N`: search a recipe's parameters with Optuna; trials scored like `perform select`.

Parses and delegates: perform.selection.search.run_search does the work.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from perform.commands import options

RECIPES = ("vaegan", "unstable-equilibrium")


def _budget(text: str) -> float:
    """`90s`, `20m`, `1.5h` or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a time such as 90s, 20m or 2h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", choices=RECIPES, help="what to train in each trial")
    p.add_argument("--trials", type=options.integer(1, 100000, what="a number of trials"), default=20,
                   help="finished trials the study should hold (a resumed study runs only the missing ones); default 20")
    p.add_argument("--budget", type=_budget, metavar="TIME", help="stop starting trials after this long: 90s, 20m, 2h")
    p.add_argument("--steps", type=options.integer(1, 10**8, what="a number of steps"), help="training steps per trial "
                   "(default: the recipe's, or 30 with --tiny); snapshots at a third, two thirds and the end")
    p.add_argument("--tiny", action="store_true", help="32 px nets, 30 steps: a CPU runs a trial in seconds")
    p.add_argument("--weights", metavar="M=W,...", help="the objective, as `perform select --weights` (default: "
                   "vaegan psnr_db=1,ssim=1,diversity=0.5; unstable-equilibrium diversity=1,colourfulness=1)")
    p.add_argument("--out", metavar="DIR", help="search folder: trial runs, results.csv/.md, search.png, search.db "
                   "(default runs/search-RECIPE)")
    p.add_argument("--storage", metavar="URL", help="Optuna storage shared by machines running the same study, "
                   "e.g. postgresql://user@host/db (default: sqlite file OUT/search.db)")
    p.add_argument("--study", metavar="NAME", help="study name in the storage (default: the recipe's name)")
    p.add_argument("--data", metavar="DIR", help="vaegan: folder of aligned face crops")
    p.add_argument("--config", metavar="FILE", help="unstable-equilibrium: recipe TOML (required); vaegan: TrainConfig TOML")
    p.add_argument("--preset", choices=("cpu-small", "gpu"), help="vaegan: starting values under the searched ones")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a fixed recipe value (repeatable)")
    p.add_argument("--seed", type=options.integer(0, 2**31 - 1, what="a seed"), default=0, help="sampler and training seed")
    p.add_argument("--device", type=options.device, default=None, help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--threads", type=options.integer(1, 1024, what="a number of threads"), help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    # torch and optuna load only when this command runs: every `perform` command builds this one's parser
    from perform.selection.search import SearchSettings, run_search

    if args.threads:
        import torch  # lazily: see above

        torch.set_num_threads(args.threads)
    s = SearchSettings(recipe=args.recipe, out=Path(args.out or f"runs/search-{args.recipe}"), trials=args.trials,
                       weights=args.weights or "", budget_s=args.budget, steps=args.steps, tiny=args.tiny,
                       storage=args.storage, study=args.study, seed=args.seed, device=args.device, data=args.data,
                       config=args.config, preset=args.preset, sets=tuple(args.set))
    print(f"perform search: study {s.study_name()!r} in {s.storage_url()}; trial runs in {s.out}")
    try:
        study = run_search(s)
    except KeyboardInterrupt:
        print(f"perform search: interrupted; finished trials are kept in {s.storage_url()}: "
              "run the same command again to continue")
        return 130
    done = [t for t in study.trials if t.value is not None]
    if done:
        best = max(done, key=lambda t: t.value)
        run_dir = s.out / best.user_attrs.get("run", f"trial-{best.number:04d}")
        print(f"best: trial {best.number}, value {best.value:.4f} at step {best.user_attrs.get('best_step')}: "
              f"{best.params}\nresults: {s.out / 'results.md'}, {s.out / 'results.csv'}, plot {s.out / 'search.png'}\n"
              f"export it: perform select {run_dir}" + (f" --weights {s.weights}" if s.weights else ""))
    return 0
