"""FaceTracker: frames -> FaceObservation (MediaPipe face mesh, aligned crop, smoothed named features)."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from perform.sources.frame import Frame
from perform.tracking.align import N_LANDMARKS, align_face
from perform.tracking.features import compute_features, neutral_features
from perform.tracking.observation import FEATURE_NAMES, FaceObservation
from perform.tracking.one_euro import OneEuroFilter

_PRESENCE = FEATURE_NAMES.index("presence")
_NEUTRAL = np.array([neutral_features()[n] for n in FEATURE_NAMES])
# Off by default, by measurement (docs/performance.md): MediaPipe's cost hardly depends on the frame size up
# to 1080p, where the resize costs what it saves; a 4K frame tracked at 640 px costs 13% less, but a smaller
# face in it is found less precisely (2.4 px at 100 px eye distance), or, at other widths, not at all.
# A 1280x720 frame at 640 px agrees with the full-size run within 0.8 px (at 100 px eye distance).
TRACK_WIDTH: int | None = None


def downscale(image: np.ndarray, width: int | None) -> np.ndarray:
    """The image at `width` (aspect kept) if it is wider, else itself. Landmarks are normalised to the
    image's size (z to its width), so those found in the small image are already the full frame's."""
    h, w = image.shape[:2]
    if not width or w <= width:
        return image
    # linear, not area: area averaging a 4K frame costs more than MediaPipe saves on it; the landmarks agree as well
    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_LINEAR)


def detect_landmarks(face_mesh, image: np.ndarray) -> np.ndarray | None:
    """(478, 3) float32 normalised landmarks of the first face MediaPipe finds in an RGB image, or None."""
    result = face_mesh.process(np.ascontiguousarray(image))
    faces = result.multi_face_landmarks
    if not faces:
        return None
    pts = faces[0].landmark
    if len(pts) < N_LANDMARKS:  # refine_landmarks off somewhere: the aligner needs the full mesh
        return None
    return np.array([(p.x, p.y, p.z) for p in pts], dtype=np.float32)


def create_face_mesh(static: bool):
    """MediaPipe's face mesh (478 points with irises, one face). static=True detects on every image."""
    import mediapipe as mp  # imported here: it is slow to import and only the tracking worker needs it

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1, refine_landmarks=True,
                                           min_detection_confidence=0.5, min_tracking_confidence=0.5)


class FaceTracker:
    """Tracks one face through a stream of frames, driven by the frames' timestamps only.

    crop_size: side of the aligned crop (the generator's encoder input).
    min_cutoff, beta: One Euro parameters for the features (they are roughly unit-range; see one_euro.py).
    static: detect on every frame (photos, `perform capture`) instead of tracking between video frames.
    hold_s: a face missing for less than this keeps its last values (a one-frame miss is not a loss).
    release_s: after that, features ease towards neutral and presence falls to 0 over about this long.
    reacquire_s: when the face comes back, output blends from the held values to the tracked ones over this.
    track_width: frames wider than this are scaled down to it for MediaPipe (None: always full size); the
      crop and the features still come from the full frame.

    Not thread-safe; use one instance per thread (MediaPipe graphs are per instance).
    """

    def __init__(self, crop_size: int = 64, min_cutoff: float = 1.0, beta: float = 1.0, static: bool = False,
                 hold_s: float = 0.15, release_s: float = 1.0, reacquire_s: float = 0.3,
                 track_width: int | None = TRACK_WIDTH) -> None:
        self.crop_size = int(crop_size)
        self.track_width = track_width
        self.static = static
        self.hold_s, self.release_s, self.reacquire_s = hold_s, release_s, reacquire_s
        self._filter = OneEuroFilter(min_cutoff=min_cutoff, beta=beta, d_cutoff=1.0)
        self._mesh = create_face_mesh(static)
        self._out = _NEUTRAL.copy()  # the last output, in FEATURE_NAMES order
        self._out[_PRESENCE] = 0.0
        self._t_last: float | None = None  # timestamp of the last processed frame
        self._t_seen: float | None = None  # timestamp of the last frame with a face
        self._blend_from: np.ndarray | None = None  # output held when a face (re)appeared
        self._blend = 1.0  # 0 -> 1 across reacquire_s after the face (re)appears

    def process(self, frame: Frame) -> FaceObservation:
        if self._mesh is None:
            raise RuntimeError("FaceTracker.process called after close()")
        t0 = time.perf_counter()
        t = frame.t_capture_s
        dt = 0.0 if self._t_last is None else max(0.0, t - self._t_last)
        self._t_last = t
        h, w = frame.image.shape[:2]
        landmarks = detect_landmarks(self._mesh, downscale(frame.image, self.track_width))
        crop = None
        if landmarks is not None:
            raw = compute_features(landmarks, (w, h))
            x = np.array([raw[n] for n in FEATURE_NAMES])
            lost_long = self._t_seen is None or t - self._t_seen > self.hold_s
            if lost_long:
                # start the filter afresh on real data and blend from what the output was showing
                self._filter.reset(x, t)
                self._blend_from, self._blend = self._out.copy(), 0.0
            filtered = self._filter(x, t)
            self._t_seen = t
            if self._blend < 1.0:
                self._blend = min(1.0, self._blend + dt / self.reacquire_s) if not lost_long else self._blend
                k = _smoothstep(self._blend)
                out = self._blend_from + (filtered - self._blend_from) * k
            else:
                out = filtered
            crop = align_face(frame.image, landmarks, self.crop_size)
        else:
            out = self._out.copy()
            if self._t_seen is None or t - self._t_seen > self.hold_s:
                # ease towards neutral: ~95% of the way after release_s; presence falls linearly
                a = 1.0 - math.exp(-3.0 * dt / self.release_s)
                out += (_NEUTRAL - out) * a
                out[_PRESENCE] = max(0.0, self._out[_PRESENCE] - dt / self.release_s)
        self._out = out
        feats = dict(zip(FEATURE_NAMES, (float(v) for v in out)))
        return FaceObservation(t, frame.index, landmarks is not None, feats, landmarks, crop,
                               track_ms=(time.perf_counter() - t0) * 1000.0)

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)
