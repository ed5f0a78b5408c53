"""Diversity of a batch: pixel features, pairwise distances and the Vendi score (Friedman & Dieng 2023).

The Vendi score of n items with a similarity kernel K (K_ii = 1, positive semi-definite) is
exp(-sum_i l_i log l_i) over the eigenvalues l_i of K / n: the effective number of distinct items.
n identical items score 1, n items with zero similarity score n. For images the kernel here is a
Gaussian of the RMS pixel difference at 16x16 (`image_kernel`): two images closer than about the
bandwidth (0.1 = a 10 % RMS difference) count as one. `batch_diversity` is what training records and
the collapse detector watches (perform.training.collapse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from perform.quality.image_metrics import as_tensor

FEATURE_SIZE = 16        # px: fine detail and pixel noise average out; pose, layout and colour remain
BANDWIDTH = 0.1          # RMS difference on the [0, 1] scale at which the image kernel falls to exp(-1/2)


def pixel_features(images: np.ndarray | torch.Tensor, size: int = FEATURE_SIZE) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, D) float32: area-averaged to at most size x size, on [0, 1], scaled by
    1/sqrt(D) so that the Euclidean distance between two rows is their RMS pixel difference."""
    x = as_tensor(images) / 255.0                                           # (B, 3, H, W)
    h, w = x.shape[-2:]
    if max(h, w) > size:
        x = F.adaptive_avg_pool2d(x, (max(1, round(h * size / max(h, w))), max(1, round(w * size / max(h, w)))))
    flat = x.flatten(1)
    return flat / flat.shape[1] ** 0.5


def tensor_features(images: torch.Tensor, size: int = FEATURE_SIZE) -> torch.Tensor:
    """pixel_features of a generator's output (B, 3, H, W) in [-1, 1], without a round trip through uint8."""
    x = (images.detach().float().clamp(-1, 1) + 1.0) / 2.0
    h, w = x.shape[-2:]
    if max(h, w) > size:
        x = F.adaptive_avg_pool2d(x, (max(1, round(h * size / max(h, w))), max(1, round(w * size / max(h, w)))))
    flat = x.flatten(1)
    return flat / flat.shape[1] ** 0.5


def pairwise_distances(features: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, N) Euclidean distances (exactly 0 on the diagonal)."""
    f = features.double()
    d = torch.cdist(f, f)
    return d.fill_diagonal_(0.0)


def mean_pairwise_distance(features: torch.Tensor) -> float:
    """Mean distance between distinct rows of (N, D); 0 for N < 2 or identical rows."""
    n = features.shape[0]
    return float(pairwise_distances(features).sum() / (n * (n - 1))) if n > 1 else 0.0


def cosine_kernel(features: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, N) cosine similarities (rows of zeros are taken as identical to each other)."""
    f = features.double()
    norms = f.norm(dim=1, keepdim=True)
    f = torch.where(norms > 1e-12, f / norms.clamp_min(1e-12), torch.full_like(f, f.shape[1] ** -0.5))
    k = f @ f.T
    return k.clamp(-1.0, 1.0).fill_diagonal_(1.0)


def rbf_kernel(features: torch.Tensor, bandwidth: float = BANDWIDTH) -> torch.Tensor:
    """(N, D) -> (N, N) exp(-d^2 / (2 bandwidth^2)), d the Euclidean distance between rows."""
    d = pairwise_distances(features)
    return torch.exp(-(d ** 2) / (2.0 * bandwidth ** 2))


def vendi_score(kernel: torch.Tensor) -> float:
    """exp(Shannon entropy of the eigenvalues of K / n) for an (n, n) similarity matrix with ones on the
    diagonal: 1 for identical items, n for items with no similarity."""
    n = kernel.shape[0]
    if n == 0:
        return 0.0
    lam = torch.linalg.eigvalsh(kernel.double().cpu() / n).clamp_min(0.0)  # symmetric: real eigenvalues
    lam = lam[lam > 1e-12]
    return float(torch.exp(-(lam * lam.log()).sum()))


def image_kernel(features: torch.Tensor, bandwidth: float = BANDWIDTH) -> torch.Tensor:
    """The similarity of images for Vendi: rbf_kernel of pixel_features."""
    return rbf_kernel(features, bandwidth)


@dataclass(frozen=True, slots=True)
class BatchDiversity:
    """A batch's diversity: the Vendi score (effective number of distinct images, 1..n) and the mean
    pairwise RMS pixel difference at 16x16 on the [0, 1] scale (0 when every image is the same)."""

    vendi: float
    distance: float
    n: int


def batch_diversity(images: np.ndarray | torch.Tensor, bandwidth: float = BANDWIDTH) -> BatchDiversity:
    """Diversity of (B, H, W, 3) uint8 images, or of a generator's output (B, 3, H, W) float in [-1, 1]."""
    if isinstance(images, torch.Tensor) and images.is_floating_point():
        f = tensor_features(images)
    else:
        f = pixel_features(images)
    if not bool(torch.isfinite(f).all()):  # an exploded generator: no eigenvalues to take
        return BatchDiversity(float("nan"), float("nan"), int(f.shape[0]))
    return BatchDiversity(vendi_score(image_kernel(f, bandwidth)), mean_pairwise_distance(f), int(f.shape[0]))
