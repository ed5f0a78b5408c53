"""`perform train`: train a model. Recipes: vaegan (a face VAE-GAN from a capture folder), unstable-equilibrium."""

from __future__ import annotations

import argparse
from dataclasses import fields

from perform.commands import options
from perform.errors import PerformError

RECIPES = ("vaegan", "unstable-equilibrium")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from perform.training.config import PRESETS, TrainConfig, field_types

    p.add_argument("data", nargs="?", metavar="DATA_DIR", help="folder of aligned face crops (from `perform capture`); vaegan recipe")
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
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="unstable-equilibrium: override a recipe key (repeatable)")
    p.add_argument("--keep-alive", action="store_true", help="unstable-equilibrium: perturb the pair when its health checks report collapse or stasis, instead of only logging")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still written)")
    g = p.add_argument_group("training config overrides (vaegan; each a TrainConfig field, over preset and --config)")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        kind = field_types()[f.name]
        g.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None,
                       type=str if kind is bool else kind, metavar=kind.__name__.upper(),
                       help=f"default {getattr(defaults, f.name)!r}")


def run(args: argparse.Namespace) -> int:
    if args.recipe == "unstable-equilibrium":
        try:
            from perform.training.unstable import run_from_args
        except ImportError as e:
            raise PerformError(f"recipe unstable-equilibrium is not available: {e}") from None
        return int(run_from_args(args) or 0)
    if args.export:
        from perform.training.export import export_run

        if not args.out:
            raise PerformError("--export needs --out, the run folder to export from")
        path = export_run(args.out, args.export, data_dir=args.data, half=not args.fp32)
        print(f"perform train: exported {path}")
        return 0
    from perform.training.run import train_vaegan

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    return train_vaegan(data_dir=args.data, out_dir=args.out, preset=args.preset, config_path=args.config,
                        overrides=overrides, resume=args.resume, device=args.device, progress=not args.no_progress)
