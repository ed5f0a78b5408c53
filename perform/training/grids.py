"""Image grids of samples and reconstructions, written as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch

from perform.nets.vaegan import tensor_to_images


def make_grid(images: np.ndarray, cols: int | None = None, pad: int = 2, pad_value: int = 16) -> np.ndarray:
    """(B, H, W, 3) uint8 -> one (rows*(H+pad)+pad, cols*(W+pad)+pad, 3) uint8 image."""
    b, h, w, _ = images.shape
    cols = cols or math.ceil(math.sqrt(b))
    rows = math.ceil(b / cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), pad_value, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def pairs_grid(real: torch.Tensor, recon: torch.Tensor, cols: int = 8) -> np.ndarray:
    """Originals and their reconstructions in alternating rows: (B, 3, H, W) each, in [-1, 1]."""
    a, b = tensor_to_images(real), tensor_to_images(recon)
    rows = []
    for i in range(0, len(a), cols):
        rows += [a[i:i + cols], b[i:i + cols]]
    n = min(len(r) for r in rows)
    return make_grid(np.concatenate([r[:n] for r in rows]), cols=n)


def save_png(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB uint8 image as PNG (atomically: the viewer never sees a half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)
    return path
