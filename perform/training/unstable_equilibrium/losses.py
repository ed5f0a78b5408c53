"""Objectives of the data-free pair: deception, relative colour variety, batch relations, distances."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from perform.training.colour import colourfulness_torch


# ---- distances: their small disagreements are part of the recipe (they inject variation) ----

def _at_most(x: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Average-pool to at most size x size. Colour counts are taken at 16 px: a fine pattern of every hue
    (the transposed convolutions' checkerboard is one) then averages out and earns nothing; colour has
    to come as fields and shapes. Cheaper too: cost grows with pixels."""
    f = max(1, x.shape[-1] // size)
    return F.avg_pool2d(x, f) if f > 1 else x


def pairwise(x: torch.Tensor, kind: str) -> torch.Tensor:
    """Pairwise distances between the rows of x (B, D) -> (B, B)."""
    if kind == "l1":
        return torch.cdist(x, x, p=1.0) / x.shape[1]
    if kind == "l2":
        # the +eps keeps the gradient of sqrt finite on the zero diagonal
        d2 = (x.unsqueeze(0) - x.unsqueeze(1)).pow(2).mean(-1)
        return torch.sqrt(d2 + 1e-8)
    if kind == "cosine":
        xn = F.normalize(x, dim=1, eps=1e-8)
        return 1.0 - xn @ xn.T
    if kind == "huber":
        diff = x.unsqueeze(0) - x.unsqueeze(1)
        return F.huber_loss(diff, torch.zeros_like(diff), reduction="none", delta=0.1).mean(-1)
    raise ValueError(f"unknown distance {kind!r}")


def _off_diagonal(d: torch.Tensor) -> torch.Tensor:
    b = d.shape[0]
    return d[~torch.eye(b, dtype=torch.bool, device=d.device)]  # (B*(B-1),)


def batch_diversity(images: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Mean pairwise distance of a batch of images (B, 3, H, W); 0 for a collapsed batch."""
    return _off_diagonal(pairwise(images.flatten(1), kind)).mean()


def diversity_loss(images: torch.Tensor, kind: str) -> torch.Tensor:
    """Reward pixel-space batch diversity at a coarse scale (16 px: pixel noise earns nothing); the log
    flattens the reward once outputs differ (no runaway)."""
    return -torch.log(batch_diversity(_at_most(images, 16), kind) + 1e-4)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels of (B, 3, H, W): ~0 for flat fields, ~1 for noise."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return dx + dy


def relational_loss(features: torch.Tensor, latents: torch.Tensor, kind: str) -> torch.Tensor:
    """Distances between the batch's embeddings should follow those between its latents (scale-free).

    Keeps the latent space meaningful for live mappings: nearby latents, nearby images.
    features (B, ...), latents (B, Z).
    """
    df = _off_diagonal(pairwise(features.flatten(1), kind))
    dz = _off_diagonal(pairwise(latents, kind)).detach()
    df = df / (df.mean() + 1e-6)
    dz = dz / (dz.mean() + 1e-6)
    return F.smooth_l1_loss(df, dz, beta=0.1)


# ---- deception: the critic's logit says "made by A" ----

def target_loss(logits: torch.Tensor, target: float, kind: str) -> torch.Tensor:
    """Push the critic's verdict on `logits` (B,) toward `target` (1 = A, 0 = B) with the chosen function."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
    if kind == "hinge":
        sign = 1.0 if target > 0.5 else -1.0
        return F.relu(1.0 - sign * logits).mean()
    p = torch.sigmoid(logits)
    if kind == "l1":
        return (p - target).abs().mean()
    if kind == "l2":
        return (p - target).pow(2).mean()
    raise ValueError(f"unknown deception loss {kind!r}")


# ---- colour variety: three measures, all differentiable, all (B,) ----

def _hue_chroma(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hue angle and chroma from the opponent axes of (B, 3, H, W) in [-1, 1]: (B, H*W) each."""
    r, g, b = x[:, 0].flatten(1), x[:, 1].flatten(1), x[:, 2].flatten(1)
    a = r - 0.5 * (g + b)
    c = (math.sqrt(3) / 2) * (g - b)
    return torch.atan2(c, a + 1e-8), torch.sqrt(a * a + c * c + 1e-8)


def hue_entropy(x: torch.Tensor, bins: int = 24) -> torch.Tensor:
    """Entropy (nats) of the chroma-weighted soft hue histogram of each image: many hues -> high. (B,)"""
    hue, chroma = _hue_chroma(_at_most(x, 16))                                           # (B, N)
    centres = torch.linspace(-math.pi, math.pi, bins + 1, device=x.device)[:-1]
    delta = torch.remainder(hue.unsqueeze(-1) - centres + math.pi, 2 * math.pi) - math.pi  # (B, N, K), circular
    w = torch.softmax(-(delta / (2 * math.pi / bins)).pow(2) * 2.0, dim=-1) * chroma.unsqueeze(-1)
    hist = w.sum(1) + 1e-6                                                   # (B, K)
    p = hist / hist.sum(-1, keepdim=True)
    # greyscale images have a near-uniform but tiny histogram: scale by mean chroma so grey does not score high
    return -(p * p.log()).sum(-1) * torch.tanh(4.0 * chroma.mean(1))


def soft_colour_count(x: torch.Tensor, levels: int = 4, tau: float = 0.002) -> torch.Tensor:
    """Soft count of distinct quantised colours (levels^3 RGB cells) used by each image, in [0, levels^3]. (B,)

    Each pixel spreads a unit of mass over nearby cells (Gaussian in RGB); a cell counts as used as its
    share of the image's mass grows past tau.
    """
    b = x.shape[0]
    px = _at_most(x, 16).flatten(2).transpose(1, 2)                                        # (B, N, 3)
    g = torch.linspace(-1.0, 1.0, levels, device=x.device)
    grid = torch.stack(torch.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)  # (K, 3)
    sigma = 1.0 / (levels - 1)
    # |p - g|^2 expanded: one matmul instead of a (B, N, K, 3) difference tensor
    d2 = px.pow(2).sum(-1, keepdim=True) + grid.pow(2).sum(-1) - 2.0 * px @ grid.T  # (B, N, K)
    mass = torch.softmax(-d2 / (2 * sigma * sigma), dim=-1).mean(1)          # (B, K), sums to 1
    return (1.0 - torch.exp(-mass / tau)).sum(-1).view(b)


def colour_measure(x: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image colour variety (B,) by the named measure, scaled to be O(1)."""
    if kind == "colourfulness":
        return colourfulness_torch(x) / 100.0
    if kind == "hue_entropy":
        return hue_entropy(x) / math.log(24)
    if kind == "soft_histogram":
        return soft_colour_count(x) / 64.0
    raise ValueError(f"unknown colour measure {kind!r}")


def relative_colour_loss(own: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """Reward having more colour than the other generator, relative to the pair's batch level.

    own, other (B,) measures; the other's is a fixed reference (detached). Softplus: winning by a wide
    margin stops paying, so colour cannot run away alone and the other objectives keep a say.
    """
    ref = other.detach()
    scale = 0.5 * (own.detach().mean() + ref.mean()) + 1e-3
    return F.softplus(-(own.mean() - ref.mean()) / scale * 4.0)
