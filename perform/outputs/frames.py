"""Frame shapes for outputs: the show's frame fitted to an output's fixed size (a window may be resized)."""

from __future__ import annotations

import cv2
import numpy as np


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 at `size` (W, H), contiguous: as it is when it already is, else resized (area)."""
    w, h = size
    if frame.shape[:2] == (h, w):
        return np.ascontiguousarray(frame)
    return cv2.resize(np.ascontiguousarray(frame), (w, h), interpolation=cv2.INTER_AREA)


def rgba(frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) RGB -> (H, W, 4) RGBA, opaque (NDI, Spout and Syphon take four channels)."""
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2RGBA, dst=out)
