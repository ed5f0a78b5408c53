"""A contact sheet: images in a grid, each with lines of text under it, and a title above (numpy + OpenCV)."""

from __future__ import annotations

import math

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_SCALE = 0.36
_LINE_PX = 13
_INK = (235, 235, 235)
_DIM = (170, 170, 170)
_PAPER = 18


def _width(text: str) -> int:
    return cv2.getTextSize(text, _FONT, _SCALE, 1)[0][0]


def _text(img: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int] = _INK) -> None:
    cv2.putText(img, text, (x, y), _FONT, _SCALE, colour, 1, cv2.LINE_AA)


def contact_sheet(images: np.ndarray, labels: list[list[str]], title: list[str] | None = None, cell: int = 128,
                  cols: int | None = None, pad: int = 6) -> np.ndarray:
    """(K, H, W, 3) uint8 images, `labels[i]` lines under image i, `title` lines on top -> one RGB uint8 image.

    Images are scaled (bicubic, as the display pass does by default) so their longer side is `cell` px."""
    k, h, w, _ = images.shape
    if cols is None:  # a landscape grid with the fewest empty cells (12 -> 6 x 2)
        options = range(max(1, math.ceil(math.sqrt(k))), max(1, math.ceil(math.sqrt(k * 2.5))) + 1)
        cols = min(options, key=lambda c: (math.ceil(k / c) * c - k, -c))
    rows = math.ceil(k / cols)
    s = cell / max(h, w)
    cw, ch = max(1, round(w * s)), max(1, round(h * s))
    n_lines = max((len(lb) for lb in labels), default=0)
    col_w = max([cw, *(_width(t) for lb in labels for t in lb)]) + pad
    row_h = ch + n_lines * _LINE_PX + pad + 4
    head = (len(title or []) * (_LINE_PX + 3) + pad) if title else 0
    width = max([cols * col_w + pad, *(_width(t) + 2 * pad for t in title or [])])
    sheet = np.full((head + rows * row_h + pad, width, 3), _PAPER, np.uint8)
    for j, line in enumerate(title or []):
        _text(sheet, line, pad, pad + (j + 1) * (_LINE_PX + 3) - 4, _INK if j == 0 else _DIM)
    for i in range(k):
        r, c = divmod(i, cols)
        x, y = pad + c * col_w, head + pad + r * row_h
        sheet[y:y + ch, x:x + cw] = cv2.resize(images[i], (cw, ch), interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
        for j, line in enumerate(labels[i] if i < len(labels) else []):
            _text(sheet, line, x, y + ch + (j + 1) * _LINE_PX, _INK if j == 0 else _DIM)
    return sheet
