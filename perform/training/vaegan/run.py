"""Entry point of the vaegan recipe: resolve the config, load the data, set up ranks, train, clean up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from perform.errors import PerformError
from perform.nets.checkpoint import paths_for, read_card
from perform.nets.device import pick_device
from perform.training import distributed as D
from perform.training.dataset import load_folder
from perform.training.vaegan.config import resolve
from perform.training.vaegan.trainer import CHECKPOINT, VAEGANTrainer, resume_config

log = logging.getLogger(__name__)


def train_vaegan(data_dir: str | None, out_dir: str | None = None, preset: str | None = None, config_path: str | None = None,
                 overrides: dict[str, Any] | None = None, resume: bool = False, device: str | None = None,
                 progress: bool = True) -> int:
    """Train (or continue) a VAE-GAN run. Returns 0 when finished, 130 when interrupted after saving."""
    if out_dir is None:
        if data_dir is None:
            raise PerformError("give DATA_DIR (a folder of face crops) or --out with --resume")
        out_dir = str(Path("runs") / Path(data_dir).resolve().name)
    out = Path(out_dir)
    ckpt = paths_for(out / CHECKPOINT)[0]
    if resume:
        if not ckpt.exists():
            raise PerformError(f"--resume: no checkpoint at {ckpt}")
        base = resume_config(out)
        if preset:
            raise PerformError("--resume continues with the run's saved config; leave out --preset (override single keys instead)")
        cfg = resolve(None, config_path, overrides, base=base)
        card = read_card(out / CHECKPOINT)
        if data_dir is None:
            data_dir = ((card.get("data") or {}).get("description") or {}).get("path") or (card.get("data") or {}).get("path")
            if not data_dir:
                raise PerformError(f"{ckpt}: the card does not record the data folder; give DATA_DIR")
    else:
        if ckpt.exists():
            raise PerformError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
        if data_dir is None:
            raise PerformError("give DATA_DIR, a folder of aligned face crops (see `perform capture`)")
        cfg = resolve(preset, config_path, overrides)
    try:
        dev = pick_device(device)
    except ValueError as e:
        raise PerformError(str(e)) from None
    info = D.init_from_env(dev.type)
    if info.enabled and dev.type == "cuda":
        dev = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(dev)
    try:
        data = load_folder(data_dir, resolution=cfg.resolution)
        data.meta["path"] = str(Path(data_dir).resolve())  # for --resume without DATA_DIR; dropped on export
        if resume:
            old = (read_card(out / CHECKPOINT).get("data") or {}).get("fingerprint")
            if old and old != data.fingerprint and info.is_main:
                log.warning("the data in %s differs from the data this run started with (fingerprint changed)", data_dir)
        trainer = VAEGANTrainer(cfg, data, out, dev, info, progress=progress)
        if resume:
            trainer.load(out / CHECKPOINT)
            if info.is_main:
                done = " (already done: give a larger --steps to train further)" if trainer.step >= cfg.steps else ""
                print(f"perform train: resuming {out} at step {trainer.step} of {cfg.steps}{done}", flush=True)
        elif info.is_main:
            print(f"perform train: {len(trainer.train_data)} training crops, {len(trainer.held_out)} held out; "
                  f"{cfg.resolution} px, {cfg.steps} steps on {dev}" + (f" x {info.world} processes" if info.enabled else ""), flush=True)
        return trainer.fit()
    finally:
        D.shutdown(info)
