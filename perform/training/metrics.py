"""Metrics that need nothing downloaded: PSNR, SSIM, sample diversity (pairwise distance, Vendi score), colourfulness."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from perform.quality.diversity import batch_diversity
from perform.training.colour import colourfulness_torch


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of (B, 3, H, W) images in [-1, 1] (peak = the full range). Returns (B,)."""
    mse = ((x.float() - y.float()) / 2.0).pow(2).flatten(1).mean(1)  # on the [0, 1] scale
    return -10.0 * torch.log10(mse.clamp_min(1e-10))


def _gaussian_window(size: int, sigma: float, channels: int, device: torch.device) -> torch.Tensor:
    ax = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(ax ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()  # (C, 1, k, k)


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-image SSIM (Wang et al. 2004; Gaussian 11x11, sigma 1.5, K1=0.01, K2=0.03), averaged over channels
    and valid positions, of (B, C, H, W) images in [-1, 1]. Returns (B,). Matches skimage's
    structural_similarity(gaussian_weights=True, use_sample_covariance=False, data_range=1) on [0, 1] images."""
    x = (x.float() + 1.0) / 2.0
    y = (y.float() + 1.0) / 2.0
    c = x.shape[1]
    w = _gaussian_window(window, sigma, c, x.device)
    c1, c2 = 0.01 ** 2, 0.03 ** 2

    def filt(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=c)  # valid positions only, as skimage crops the border

    mx, my = filt(x), filt(y)
    sxx = filt(x * x) - mx * mx
    syy = filt(y * y) - my * my
    sxy = filt(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def diversity(samples: torch.Tensor) -> float:
    """Mean pairwise RMS distance between (B, 3, H, W) samples in [-1, 1], on the [0, 1] scale.

    0 means mode collapse (all samples the same); real face crops sit around 0.2-0.35.
    """
    flat = ((samples.float() + 1.0) / 2.0).flatten(1)       # (B, D)
    d = torch.cdist(flat, flat) / flat.shape[1] ** 0.5       # (B, B)
    b = flat.shape[0]
    return float(d.sum() / (b * (b - 1))) if b > 1 else 0.0


def colourfulness_mean(images: torch.Tensor) -> float:
    """Mean Hasler-Süsstrunk colourfulness of (B, 3, H, W) images in [-1, 1], on the 0..255 scale."""
    return float(colourfulness_torch(images.float()).mean())


def vendi(samples: torch.Tensor) -> float:
    """Vendi score of (B, 3, H, W) samples in [-1, 1]: the effective number of distinct images, 1..B
    (perform.quality.diversity: a Gaussian kernel of the RMS pixel difference at 16x16, bandwidth 0.1)."""
    return batch_diversity(samples).vendi
