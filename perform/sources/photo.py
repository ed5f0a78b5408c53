"""The shipped face photograph (NASA's astronaut portrait, public domain), loaded from package data."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import cv2
import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class FacePhoto:
    """An RGB photo with where its face is, so it can be posed (sources.synthetic) without a detector.

    eye_mid_px: midpoint of the two eye centres (eye-corner midpoints), pixels (x, y).
    eye_dist_px: distance between the eye centres, pixels.
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB, read-only
    eye_mid_px: tuple[float, float]
    eye_dist_px: float


# measured once with MediaPipe's face mesh on perform/assets/astronaut.jpg
_ASTRONAUT_EYES = (225.3, 103.4)
_ASTRONAUT_EYE_DIST = 42.1


def read_asset(name: str) -> bytes:
    """Bytes of a file shipped in perform/assets."""
    return resources.files("perform").joinpath("assets", name).read_bytes()


def decode_image(data: bytes, what: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB from encoded image bytes (PNG, JPEG, ...); ValueError naming `what` if not one."""
    if not data:
        raise ValueError(f"{what}: empty file (0 bytes)")
    try:
        arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:  # OpenCV asserts on some malformed headers instead of returning None
        arr = None
    if arr is None:
        raise ValueError(f"{what}: not a readable image")
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


@functools.lru_cache(maxsize=1)
def astronaut() -> FacePhoto:
    """The 512x512 astronaut portrait (public domain, NASA; as in scikit-image's data)."""
    img = decode_image(read_asset("astronaut.jpg"), "astronaut.jpg")
    img.setflags(write=False)
    return FacePhoto(img, _ASTRONAUT_EYES, _ASTRONAUT_EYE_DIST)
