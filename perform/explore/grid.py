"""The grid of candidates as one image: cells with their numbers, picked cells framed, favourites marked.

The same picture goes to the window (one texture) and to the PNG of each generation, so what a headless run
writes is what the window shows. numpy (and pygame's font for the numbers); no GL, no torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame.font  # noqa: E402  (after the variable that silences its banner)

BACKGROUND = (18, 18, 20)
PICKED = (255, 200, 40)
FAVOURITE = (235, 60, 90)
LABEL = (235, 235, 235)


@dataclass(frozen=True, slots=True)
class GridLayout:
    """Where each cell lies in the grid image: cells of (cell_h, cell_w) pixels with `gap` pixels around them,
    below a free band `top` pixels high (where the window's HUD goes)."""

    cols: int
    rows: int
    cell_h: int
    cell_w: int
    gap: int
    top: int = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the grid image."""
        return (self.cols * (self.cell_w + self.gap) + self.gap, self.top + self.rows * (self.cell_h + self.gap) + self.gap)

    def origin(self, cell: int) -> tuple[int, int]:
        """(x, y) of the cell's top-left pixel."""
        r, c = divmod(cell, self.cols)
        return (self.gap + c * (self.cell_w + self.gap), self.top + self.gap + r * (self.cell_h + self.gap))

    def cell_at(self, x: float, y: float) -> int | None:
        """The cell under grid-image pixel (x, y), or None (a gap, or outside)."""
        for cell in range(self.cols * self.rows):
            x0, y0 = self.origin(cell)
            if x0 <= x < x0 + self.cell_w and y0 <= y < y0 + self.cell_h:
                return cell
        return None


def layout_for(image_shape: tuple[int, ...], cols: int, rows: int, scale: int = 1, top: int = 0) -> GridLayout:
    """The layout for images of `image_shape` (H, W, ...) shown `scale` times their size."""
    h, w = int(image_shape[0]) * scale, int(image_shape[1]) * scale
    return GridLayout(cols, rows, h, w, gap=max(4, min(h, w) // 16), top=top)


def compose(images: Sequence[np.ndarray], layout: GridLayout, picks: Sequence[int] = (), favourites: Sequence[int] = (),
            labels: bool = True) -> np.ndarray:
    """(H, W, 3) uint8: the images in their cells (nearest-neighbour scaled), picked cells framed in yellow
    with their pick order, favourites with a red corner, cell numbers from 1."""
    w, h = layout.size
    out = np.empty((h, w, 3), np.uint8)
    out[:] = BACKGROUND
    g = layout.gap
    for cell, img in enumerate(images[: layout.cols * layout.rows]):
        x, y = layout.origin(cell)
        if cell in picks:
            out[y - g:y + layout.cell_h + g, x - g:x + layout.cell_w + g] = PICKED
        out[y:y + layout.cell_h, x:x + layout.cell_w] = _fit(img, layout.cell_h, layout.cell_w)
        if cell in favourites:
            _corner(out, x + layout.cell_w, y, max(6, layout.cell_w // 6))
        if labels:
            text = str(cell + 1) + (f" ({picks.index(cell) + 1})" if cell in picks else "")
            _label(out, text, x + 2, y + 1, max(10, layout.cell_h // 6))
    return out


def _fit(img: np.ndarray, h: int, w: int) -> np.ndarray:
    img = np.asarray(img, np.uint8)
    if img.shape[:2] == (h, w):
        return img[..., :3]
    return cv2.resize(np.ascontiguousarray(img[..., :3]), (w, h), interpolation=cv2.INTER_NEAREST)


def _corner(out: np.ndarray, right: int, top: int, n: int) -> None:
    """A filled triangle in the cell's top-right corner."""
    for i in range(n):
        out[top + i, right - (n - i):right] = FAVOURITE


_FONTS: dict[int, "pygame.font.Font"] = {}


def _label(out: np.ndarray, text: str, x: int, y: int, size_px: int) -> None:
    if not pygame.font.get_init():
        pygame.font.init()  # needs no display
    font = _FONTS.get(size_px) or _FONTS.setdefault(size_px, pygame.font.Font(None, size_px))
    surf = font.render(text, True, LABEL, (0, 0, 0))
    arr = pygame.surfarray.array3d(surf).transpose(1, 0, 2)  # (h, w, 3)
    h = min(arr.shape[0], out.shape[0] - y)
    w = min(arr.shape[1], out.shape[1] - x)
    if h > 0 and w > 0:
        out[y:y + h, x:x + w] = arr[:h, :w]
