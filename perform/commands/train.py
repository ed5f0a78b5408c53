"""`perform train`: train a model. Recipes: vaegan (a face VAE-GAN from a capture folder), unstable-equilibrium,
diverge (a trained VAE-GAN fine-tuned away from its data, played back as a trajectory).

Parses and delegates: perform.training.vaegan.run.train_vaegan / .export.export_run,
perform.training.unstable_equilibrium.run.train_pair and perform.training.diverge.run.train_diverge do the work.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from perform.commands import options
from perform.errors import PerformError
from perform.training.vaegan.config import PRESETS, TrainConfig, field_types

RECIPES = ("vaegan", "unstable-equilibrium", "diverge")
# TrainConfig fields given as a choice (checked by argparse); --on-collapse serves both recipes
_CHOICES = {
    "on_collapse": dict(choices=("warn", "rollback"), help="on mode collapse (diversity of a fixed latent batch below a "
                        "fraction of its peak, or nearly identical images): warn in the log and progress line (default), "
                        "or roll back to the last healthy snapshot and lower the learning rate; both recipes"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", nargs="?", metavar="DATA_DIR", help="folder of aligned face crops (from `perform capture`); vaegan and diverge recipes")
    p.add_argument("--recipe", choices=RECIPES, default="vaegan", help="what to train (default: vaegan)")
    p.add_argument("--config", metavar="FILE", help="TOML config for the recipe (vaegan: keys of TrainConfig, top level or under [train])")
    p.add_argument("--out", metavar="DIR", help="run folder (checkpoints, grids, logs, model export); default runs/<data folder name>")
    p.add_argument("--preset", choices=sorted(PRESETS), help="starting values: cpu-small (64 px, a 2-core CPU in under an hour) or gpu (128 px)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly where its last checkpoint left off")
    p.add_argument("--device", type=options.device, default=None, help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--export", metavar="PATH", help="instead of training: export the run in --out as a shippable model "
                   "(encoder + EMA generator, latent directions from DATA_DIR) to PATH.safetensors/.json")
    p.add_argument("--fp32", action="store_true", help="with --export: keep float32 weights (default: float16, half the size)")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads (default: torch's choice)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="unstable-equilibrium, diverge: override a recipe key (repeatable)")
    p.add_argument("--base", metavar="MODEL", help="diverge: the trained VAE-GAN to start from (default face-64)")
    p.add_argument("--keep-alive", action="store_true", help="unstable-equilibrium: perturb the pair when its health checks report collapse or stasis, instead of only logging")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still written)")
    g = p.add_argument_group("training config overrides (vaegan; each a TrainConfig field, over preset and --config)")
    types = field_types()
    for f in fields(TrainConfig):
        kind = types[f.name]
        if f.name in _CHOICES:
            g.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None, **_CHOICES[f.name])
            continue
        g.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None,
                       type=str if kind is bool else kind, metavar=kind.__name__.upper(),
                       help=f"default {f.default!r}")


# what each recipe reads of the options only some recipes read (all read --config, --out, --device, --threads,
# --no-progress); anything else would be ignored without a word (--batch-size on a pair run kept its recipe's)
_TAKES = {
    "vaegan": {"data", "preset", "resume", "export", "fp32"} | {f"cfg_{f.name}" for f in fields(TrainConfig)},
    "unstable-equilibrium": {"set", "keep_alive", "cfg_steps", "cfg_seed", "cfg_on_collapse"},
    "diverge": {"data", "set", "base", "cfg_steps", "cfg_seed"},
}
_SPECIFIC = set().union(*_TAKES.values())


def _ignored(args: argparse.Namespace) -> list[str]:
    """The options given that args.recipe would not read, as the user typed them."""
    given = [k for k, v in vars(args).items() if k in _SPECIFIC and k not in _TAKES[args.recipe]
             and v is not None and v is not False]
    return ["DATA_DIR" if k == "data" else "--" + k.removeprefix("cfg_").replace("_", "-") for k in given]


def run(args: argparse.Namespace) -> int:
    # torch and the recipes are imported when a recipe runs, not above: they take seconds to load, and every
    # `perform` command, `perform --help` included, builds this command's parser.
    ignored = _ignored(args)
    if ignored:
        hint = ("; its settings are flags (--steps, --kl-weight, ...) or a --config file" if args.recipe == "vaegan"
                else "; recipe keys are set with --set KEY=VALUE")
        raise PerformError(f"the {args.recipe} recipe does not take {', '.join(ignored)}{hint}")
    if args.threads:
        import torch  # lazily: see above

        torch.set_num_threads(args.threads)
    if args.recipe == "unstable-equilibrium":
        return _run_unstable_equilibrium(args)
    if args.recipe == "diverge":
        return _run_diverge(args)
    if args.export:
        return _export_vaegan(args)
    from perform.training.vaegan.run import train_vaegan  # lazily: see above

    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    return train_vaegan(data_dir=args.data, out_dir=args.out, preset=args.preset, config_path=args.config,
                        overrides=overrides, resume=args.resume, device=args.device, progress=not args.no_progress)


def _export_vaegan(args: argparse.Namespace) -> int:
    from perform.training.vaegan.export import export_run  # lazily, as in run()

    if not args.out:
        raise PerformError("--export needs --out, the run folder to export from")
    path = export_run(args.out, args.export, data_dir=args.data, half=not args.fp32)
    print(f"perform train: exported {path}")
    if not args.data:  # a working model, but one that starts its latents at the prior's origin, rarely a face
        print("perform train: note: without DATA_DIR the export has only the SeFa directions and no latent_stats; "
              "give the crops the run trained on for pc0..pc7, the face-feature directions and the data's mean "
              "latent", file=sys.stderr)
    return 0


def _run_unstable_equilibrium(args: argparse.Namespace) -> int:
    if not args.config:
        raise PerformError("--config FILE is required for the unstable-equilibrium recipe (see recipes/)")
    from perform.training.unstable_equilibrium.run import train_pair  # lazily, as in run()

    # --steps, --seed and --on-collapse are parsed as TrainConfig fields (cfg_<name>); the recipe has keys of the
    # same names (on_collapse under [health])
    sets = list(args.set or []) + ([f"health.on_collapse={args.cfg_on_collapse}"] if args.cfg_on_collapse else [])
    path = train_pair(args.config, args.out, sets=sets, steps=args.cfg_steps, seed=args.cfg_seed,
                      device=args.device, keep_alive=args.keep_alive)
    print(f"pair model written to {path}")
    return 0


def _run_diverge(args: argparse.Namespace) -> int:
    if not args.data:
        raise PerformError("the diverge recipe needs DATA_DIR, the crops the base model was trained on "
                           "(the demo faces: python tools/build_demo_dataset.py DIR --size 64)")
    from perform.training.diverge.config import load_config  # lazily, as in run()
    from perform.training.diverge.run import train_diverge  # lazily, as in run()

    cfg = load_config(args.config, args.set, base=args.base, steps=args.cfg_steps, seed=args.cfg_seed)
    path = train_diverge(cfg, args.data, args.out or f"runs/{cfg.name}", device=args.device or "auto",
                         progress=not args.no_progress)
    print(f"trajectory model written to {path}")
    return 0
