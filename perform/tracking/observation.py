"""FaceObservation: what the tracker hands to the mapper and the generator."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Mapping

import numpy as np

# Named features and their documented ranges (docs/architecture.md lists their meaning).
FEATURE_RANGES: Mapping[str, tuple[float, float]] = types.MappingProxyType({
    "yaw": (-1.0, 1.0),        # head turned: -1 full left .. +1 full right (about ±60°), image-left = performer's right
    "pitch": (-1.0, 1.0),      # head nod: -1 down .. +1 up (about ±45°)
    "roll": (-1.0, 1.0),       # head tilt: -1 .. +1 (±45°); positive = clockwise in the image
    "mouth_open": (0.0, 1.0),  # lips closed 0 .. wide open 1
    "eye_open_left": (0.0, 1.0),
    "eye_open_right": (0.0, 1.0),
    "brow_raise": (0.0, 1.0),  # relaxed 0 .. raised 1
    "face_x": (0.0, 1.0),      # face centre, image coordinates, 0 = left
    "face_y": (0.0, 1.0),      # 0 = top
    "face_size": (0.0, 1.0),   # inter-ocular distance relative to image width, scaled so a close face is near 1
    "presence": (0.0, 1.0),    # 1 face seen; decays to 0 when lost
})
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_RANGES)


@dataclass(frozen=True, slots=True, eq=False)
class FaceObservation:
    """The tracker's output for one frame.

    features: every name of FEATURE_NAMES, smoothed, within its range.
    landmarks: (478, 3) float32, x, y normalised to the image, z relative; None when no face.
    crop: (S, S, 3) uint8 RGB aligned face (eyes level, fixed inter-ocular scale); None when no face.
    """

    t_capture_s: float
    frame_index: int
    present: bool
    features: Mapping[str, float]
    landmarks: np.ndarray | None = None
    crop: np.ndarray | None = None
    track_ms: float = 0.0

    @classmethod
    def absent(cls, t_capture_s: float, frame_index: int, features: Mapping[str, float] | None = None) -> "FaceObservation":
        feats = dict(features) if features else {n: _neutral(n) for n in FEATURE_NAMES}
        feats["presence"] = feats.get("presence", 0.0)
        return cls(t_capture_s, frame_index, False, feats)


def _neutral(name: str) -> float:
    lo, hi = FEATURE_RANGES[name]
    if name in ("presence", "mouth_open", "brow_raise"):
        return 0.0
    if name in ("eye_open_left", "eye_open_right"):
        return 0.6
    if name == "face_size":
        return 0.3
    return (lo + hi) / 2
