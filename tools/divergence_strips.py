"""The pictures of docs/divergence.md's blending and fine-tuning sections, from the shipped models.

    python tools/divergence_strips.py [--out docs/divergence] [--latents 3] [--steps 9] [--scale 1]

blend-sweep.png: face-64 blended with face-64-diverged, alpha 0 .. 1 left to right, one row per latent, then
the same sweep on one group at a time (coarse, middle, fine; the others at 0) and the swap of each layer alone.
trajectory.png: face-64-diverged's trajectory, position 0 .. 1 left to right (its snapshots and between them).
Latents are drawn (seeded) from face-64's measured latent distribution.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from perform.nets.blend import GROUPS, build_blend, generator_layers
from perform.nets.model import load_model
from perform.training.grids import make_grid, save_png

ROOT = Path(__file__).resolve().parent.parent
BASE, DIVERGED = ROOT / "models" / "face-64.json", ROOT / "models" / "face-64-diverged.json"


def latents(model, n: int, seed: int = 0) -> list[np.ndarray]:
    stats = model.info.card.get("latent_stats") or {}
    mean = np.asarray(stats.get("mean", np.zeros(model.latent_dim)), np.float32)
    std = np.asarray(stats.get("std", np.ones(model.latent_dim)), np.float32)
    rng = np.random.default_rng(seed)
    return [(mean + std * rng.standard_normal(model.latent_dim)).astype(np.float32) for _ in range(n)]


def _strip(rows: list[list[np.ndarray]], scale: int) -> np.ndarray:
    cols = len(rows[0])
    grid = make_grid(np.stack([im for row in rows for im in row]), cols=cols)
    return cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def blend_sweep(zs: list[np.ndarray], steps: int, scale: int) -> np.ndarray:
    model = build_blend(BASE, DIVERGED, torch.device("cpu"))
    alphas = np.linspace(0.0, 1.0, steps)
    rows = []
    for z in zs:  # all groups together
        rows.append([_at(model, {"blend.alpha": a}, z) for a in alphas])
    for g in GROUPS:  # one group at a time, the first latent
        rows.append([_at(model, {f"blend.alpha.{g}": a}, zs[0]) for a in alphas])
    names = [layer.name for layer in generator_layers(model.net.cfg)]
    swapped = [build_blend(BASE, DIVERGED, torch.device("cpu"), swap=(n,), defaults={"blend.swap": 1.0}) for n in names]
    row = [m.generate(zs[0]) for m in swapped]
    rows.append(row + [np.full_like(row[0], 16)] * (steps - len(row)))
    return _strip(rows, scale)


def _at(model, values: dict, z: np.ndarray) -> np.ndarray:
    model.set_net_params(values)
    return model.generate(z)


def trajectory(zs: list[np.ndarray], steps: int, scale: int) -> np.ndarray:
    model = load_model(DIVERGED, "cpu")
    positions = np.linspace(0.0, 1.0, steps)
    return _strip([[_at(model, {"trajectory.position": p}, z) for p in positions] for z in zs], scale)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "divergence"))
    ap.add_argument("--latents", type=int, default=3)
    ap.add_argument("--steps", type=int, default=9)
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()
    zs = latents(load_model(BASE, "cpu"), args.latents)
    out = Path(args.out)
    print(save_png(out / "blend-sweep.png", blend_sweep(zs, args.steps, args.scale)))
    print(save_png(out / "trajectory.png", trajectory(zs, args.steps, args.scale)))


if __name__ == "__main__":
    main()
