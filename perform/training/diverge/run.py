"""The diverging run: critic warm-up, steps, snapshots with their distance from the data, and the trajectory
checkpoint (perform.nets.trajectory) that plays them back on one fader."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from perform.errors import PerformError
from perform.nets.device import pick_device
from perform.nets.trajectory import save_trajectory
from perform.nets.vaegan import Generator, tensor_to_images
from perform.setlist.paths import resolve_model
from perform.training.dataset import load_folder
from perform.training.diverge.config import DivergeConfig
from perform.training.diverge.trainer import DivergeTrainer, StateDict
from perform.training.grids import make_grid, save_png

log = logging.getLogger(__name__)


def snapshot_steps(steps: int, n: int) -> list[int]:
    """`n` steps from 0 (the base itself) to `steps`, evenly spread."""
    return sorted({int(round(s)) for s in np.linspace(0, steps, n)})


def find_base(ref: str) -> Path:
    card = resolve_model(ref, None)
    if card is None:
        raise PerformError(f"diverge recipe: base model {ref!r} not found (a card path, or a name in models/)")
    return card


@torch.no_grad()
def trajectory_strip(cfg_net, snapshots: list[StateDict], z: torch.Tensor) -> np.ndarray:
    """One row per latent, one column per snapshot: the trajectory at a glance. z: (L, Z)."""
    gen = Generator(cfg_net).eval()
    rows = []
    for state in snapshots:
        gen.load_state_dict(state)
        rows.append(tensor_to_images(gen(z.cpu())))  # (L, R, R, 3)
    cols = np.stack(rows, 1)  # (L, S, R, R, 3)
    return make_grid(cols.reshape(-1, *cols.shape[2:]), cols=len(snapshots))


def train_diverge(cfg: DivergeConfig, data_dir: str | Path, out_dir: str | Path, device: str | torch.device | None = "cpu",
                  progress: bool = True) -> Path:
    """Fine-tune cfg.base away from the crops in data_dir; writes recipe.json, metrics.jsonl, strip.png and
    <name>.safetensors/.json (a trajectory model) into out_dir. Returns the checkpoint's path."""
    dev = device if isinstance(device, torch.device) else pick_device(device)
    if (Path(out_dir) / "metrics.jsonl").exists():
        raise PerformError(f"{out_dir} already holds a run; choose another --out")
    base = find_base(cfg.base)
    data = load_folder(data_dir, resolution=None)
    trainer = DivergeTrainer(cfg, base, data, dev)
    if data.resolution != trainer.net_cfg.resolution:
        data = load_folder(data_dir, resolution=trainer.net_cfg.resolution)
    out = Path(out_dir)  # made only now: a wrong data folder or base model leaves nothing behind
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    t0 = time.perf_counter()
    for _ in range(cfg.critic_warmup):
        trainer.critic_step()
    keep_at = set(snapshot_steps(cfg.steps, cfg.snapshots))
    snapshots: list[StateDict] = []
    records: list[dict[str, Any]] = []
    sums: dict[str, float] = {}
    n = 0
    metrics = (out / "metrics.jsonl").open("w")
    try:
        for it in range(cfg.steps + 1):
            if it in keep_at:
                rec = {"step": it, **{k: round(v, 4) for k, v in trainer.distance().items()},
                       **{k: round(v / max(n, 1), 5) for k, v in sums.items()}, "time_s": round(time.perf_counter() - t0, 1)}
                snapshots.append(trainer.generator_state())
                records.append(rec)
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
                if progress:
                    print(f"diverge: step {it}/{cfg.steps}  pixel distance {rec['pixel_distance']:.2f}  "
                          f"encoder distance {rec['encoder_distance']:.3f}", flush=True)
                sums, n = {}, 0
            if it == cfg.steps:
                break
            for k, v in trainer.step().items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
    finally:
        metrics.close()
    time_s = time.perf_counter() - t0
    strip = trajectory_strip(trainer.net_cfg, snapshots, trainer.z_eval[:: max(1, len(trainer.z_eval) // 4)][:4])
    save_png(out / "strip.png", strip)
    card = {
        "name": cfg.name,
        "config": trainer.net_cfg.to_dict(),
        "description": (f"{trainer.base_card.get('name')} fine-tuned away from its data (diverge recipe: reversed "
                        "adversarial objective, blurred-structure term); its snapshots play back as a trajectory, "
                        "trajectory.position 0 = the base model, 1 = the last snapshot."),
        "recipe": {"name": "diverge", **cfg.to_dict()},
        "base": trainer.base_info(),
        "data": data.card_entry(),
        "snapshots": records,
        "distance": {"pixel_distance": [r["pixel_distance"] for r in records],
                     "encoder_distance": [r["encoder_distance"] for r in records],
                     "what": ("mean over the decodings of evenly spread encoded training crops of the distance to the "
                              "nearest training crop: pixel RMS on the 0..255 scale, and Euclidean distance between "
                              "encoder means (the base's encoder)")},
        "training": {"hardware": _hardware(dev), "time_s": round(time_s, 1), "torch": torch.__version__,
                     "device": str(dev)},
        **{k: trainer.base_card[k] for k in ("directions", "latent_stats") if k in trainer.base_card},
    }
    path = save_trajectory(out / cfg.name, trainer.encoder_state(), snapshots, card)
    log.info("diverge: %d snapshots in %.0f s -> %s", len(snapshots), time_s, path)
    return path


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), no GPU, torch threads {torch.get_num_threads()}"
