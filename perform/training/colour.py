"""Colour measures: Hasler & Süsstrunk colourfulness (a metric), and differentiable variants for losses."""

from __future__ import annotations

import numpy as np
import torch


def colourfulness(images: np.ndarray) -> np.ndarray:
    """Hasler & Süsstrunk (2003) colourfulness M of (B, H, W, 3) or (H, W, 3) uint8 RGB images.

    About 0 for greyscale, ~15 'slightly', ~33 'moderately', ~59 'quite', >82 'extremely colourful'.
    Returns (B,) float64 (a 0-d array for one image).
    """
    x = np.asarray(images, dtype=np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg = (r - g).reshape(*x.shape[:-3], -1)
    yb = (0.5 * (r + g) - b).reshape(*x.shape[:-3], -1)
    std = np.sqrt(rg.std(-1) ** 2 + yb.std(-1) ** 2)
    mean = np.sqrt(rg.mean(-1) ** 2 + yb.mean(-1) ** 2)
    return std + 0.3 * mean


def colourfulness_torch(x: torch.Tensor) -> torch.Tensor:
    """Differentiable colourfulness of (B, 3, H, W) images in [-1, 1], on the 0..255 scale. Returns (B,)."""
    x = (x + 1.0) * 127.5
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False) + 1e-6)
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2 + 1e-6)
    return std + 0.3 * mean
