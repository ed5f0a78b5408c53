"""Novelty: how far a generated image is from the nearest training crop, in an encoder's space or in pixels.

A VAE-GAN's encoder maps images to where its training data lives; the distance from a generated image's
encoding to the nearest training crop's encoding says whether the model made something new or replayed a
crop it learned. Without an encoder (a data-free pair) or without a card naming the data, the distance is
the RMS pixel difference at 16x16 (perform.quality.diversity.pixel_features).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from perform.quality.diversity import pixel_features
from perform.quality.image_metrics import as_tensor

Embed = Callable[[np.ndarray | torch.Tensor], torch.Tensor]  # (B, H, W, 3) uint8 -> (B, D) float


def encoder_embedding(encoder: torch.nn.Module, resolution: int, device: torch.device, dtype: torch.dtype = torch.float32,
                      batch: int = 256) -> Embed:
    """Images -> the encoder's mean latent / sqrt(Z) (so distances are RMS per latent dimension), resized to
    the model's resolution as the live encoder does."""

    @torch.inference_mode()
    def embed(images: np.ndarray | torch.Tensor) -> torch.Tensor:
        out = []
        for chunk in as_tensor(images).split(batch):
            x = chunk.to(device).div(127.5).sub(1.0)                      # (b, 3, H, W) in [-1, 1]
            if x.shape[-1] != resolution or x.shape[-2] != resolution:
                x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
            mean = encoder(x.to(dtype))[0].float()                       # (b, Z)
            out.append(mean / mean.shape[1] ** 0.5)
        return torch.cat(out)

    return embed


class NoveltyReference:
    """Reference images (the training crops) embedded once; `distance(images)` is each image's distance to
    the nearest of them. `space` names the embedding ('encoder' or 'pixels') for reports."""

    def __init__(self, reference: np.ndarray | torch.Tensor, embed: Embed, space: str, chunk: int = 512) -> None:
        if len(reference) == 0:
            raise ValueError("novelty needs at least one reference image")
        self.embed = embed
        self.space = space
        self._chunk = chunk
        self.features = torch.cat([embed(reference[i:i + chunk]) for i in range(0, len(reference), chunk)])  # (N, D)

    @classmethod
    def in_pixels(cls, reference: np.ndarray | torch.Tensor) -> "NoveltyReference":
        return cls(reference, pixel_features, "pixels")

    @classmethod
    def in_encoder(cls, reference: np.ndarray | torch.Tensor, encoder: torch.nn.Module, resolution: int,
                   device: torch.device, dtype: torch.dtype = torch.float32) -> "NoveltyReference":
        return cls(reference, encoder_embedding(encoder, resolution, device, dtype), "encoder")

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @torch.inference_mode()
    def distance(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 -> (B,) distance to the nearest reference image (0 for a copy of one)."""
        q = self.embed(images).float()                                   # (B, D)
        ref = self.features.to(q.device)
        best = torch.full((q.shape[0],), float("inf"), device=q.device)
        for part in ref.split(self._chunk):  # bounded memory: B x chunk distances at a time
            best = torch.minimum(best, torch.cdist(q, part.float()).min(dim=1).values)
        return best
