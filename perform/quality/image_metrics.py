"""Per-image metrics of generated images: colourfulness (Hasler & Süsstrunk 2003) and sharpness (variance of
the Laplacian, Pech-Pacheco et al. 2000).

Images are what the audience sees: (B, H, W, 3) uint8 RGB, as numpy or a torch tensor (on any device; the
measures run there, so a GPU scores thousands at once). Each metric returns (B,) float32 on that device.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from perform.training.colour import colourfulness_torch


_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_LUMA = (0.299, 0.587, 0.114)  # Rec. 601, as OpenCV's RGB -> grey


def as_tensor(images: np.ndarray | torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """(B, H, W, 3) or (H, W, 3) uint8 -> (B, 3, H, W) float32 on the 0..255 scale, on `device` (default: where
    the images are)."""
    t = torch.as_tensor(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    if t.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images, got {t.dtype}")
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"expected (B, H, W, 3) images, got shape {tuple(t.shape)}")
    if device is not None:
        t = t.to(device)
    return t.permute(0, 3, 1, 2).float()  # (B, 3, H, W)


def colourfulness(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Hasler-Süsstrunk colourfulness M per image: std and mean of the rg and yb opponent channels,
    M = sqrt(s_rg^2 + s_yb^2) + 0.3 sqrt(m_rg^2 + m_yb^2), on the 0..255 scale. About 0 for grey, ~33
    'moderately', ~59 'quite', above 82 'extremely colourful'. Returns (B,)."""
    x = as_tensor(images)
    return colourfulness_torch(x / 127.5 - 1.0)  # the training metric, on the same scale


def sharpness(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Variance of the 3x3 Laplacian of the luma (0..255) over the valid pixels (no border padding): high
    for fine detail and crisp edges, low for blur and flat fields. Noise and checkerboard artefacts
    score high too, so weigh it against colourfulness or novelty rather than alone. Grows with
    resolution: compare images of one model. Returns (B,)."""
    x = as_tensor(images)
    luma = sum(w * x[:, i:i + 1] for i, w in enumerate(_LUMA))            # (B, 1, H, W)
    lap = F.conv2d(luma, _LAPLACIAN.to(x.device).view(1, 1, 3, 3))       # (B, 1, H-2, W-2)
    return lap.flatten(1).var(1, unbiased=False)


# name -> function of the images alone; novelty needs reference images (perform.quality.novelty)
METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray | torch.Tensor], torch.Tensor]] = {
    "colourfulness": colourfulness,
    "sharpness": sharpness,
}
