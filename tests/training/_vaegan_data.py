"""Tiny synthetic face-crop folders for the VAE-GAN tests (drawn with OpenCV; a manifest with a mouth feature)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

TINY = dict(resolution=32, latent_dim=16, width=8, max_channels=32, batch_size=8, holdout=8, n_critic=1, gp_every=2,
            warmup_steps=2, log_every=1, sample_every=1000, checkpoint_every=1000, ema_decay=0.9)


def write_faces(root: Path, n: int = 40, size: int = 32, seed: int = 0) -> Path:
    """n crops: a skin ellipse on a tinted background, two eyes and a mouth whose height is the mouth_open feature."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "manifest.jsonl", "w") as f:
        for i in range(n):
            img = np.empty((size, size, 3), np.uint8)
            img[:] = rng.integers(20, 120, 3)
            c = size // 2
            skin = tuple(int(v) for v in rng.integers(120, 230, 3))
            cv2.ellipse(img, (c, c), (int(size * 0.32), int(size * 0.42)), 0, 0, 360, skin, -1)
            for dx in (-1, 1):
                cv2.circle(img, (c + dx * size // 7, int(size * 0.4)), max(1, size // 16), (20, 20, 20), -1)
            mouth = float(rng.uniform(0, 1))
            cv2.ellipse(img, (c, int(size * 0.7)), (size // 7, 1 + int(mouth * size / 10)), 0, 0, 360, (90, 20, 30), -1)
            name = f"face-{i:03d}.png"
            cv2.imwrite(str(root / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            f.write(json.dumps({"file": name, "features": {"mouth_open": mouth, "yaw": float(rng.uniform(-1, 1))}}) + "\n")
    (root / "dataset.json").write_text(json.dumps({"source": "synthetic test faces", "licence": "generated"}))
    return root
