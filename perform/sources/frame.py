"""The message a source produces, and the interface every source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One captured image.

    image: (H, W, 3) uint8 RGB.
    t_capture_s: time.perf_counter() when it was captured (live), or the frame time n/fps (fixed clock).
    index: the source's running frame number.
    """

    image: np.ndarray
    t_capture_s: float
    index: int


class Source(Protocol):
    """A live source of frames. `read` returns the next frame newer than the last one it returned,
    or None if none arrived within timeout_s (a lost camera, the end of a file)."""

    name: str

    @property
    def status(self) -> str:
        """'ok', 'waiting' (not started / no frame yet), 'lost' (frames stopped; retrying) or 'ended'."""
        ...

    def read(self, timeout_s: float) -> Frame | None: ...

    def close(self) -> None: ...


class TimedSource(Protocol):
    """A source that can give the frame for any time: what the fixed clock reads."""

    def frame_at(self, t_s: float, index: int) -> Frame | None: ...
