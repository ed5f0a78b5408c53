"""SyntheticSource: a camera with no hardware - the shipped face photo posed, lit and noised over time.

The picture at time t is a pure function of (t, seed), so the fixed clock gets the same frames every run.
Poses (position, size, roll, a head-turn-like perspective squash, lighting and colour) are also what
`perform capture` uses to make a demo dataset out of one photo (sample_pose + render_pose).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from perform.sources.frame import Frame
from perform.sources.pacing import Pacer
from perform.sources.photo import FacePhoto, astronaut


@dataclass(frozen=True, slots=True)
class Pose:
    """Where and how the face appears in the output image.

    centre: eye midpoint, fraction of the output (x of width, y of height); outside 0..1 = out of frame.
    eye_dist: eye distance as a fraction of the output width.
    roll_deg: positive = clockwise in the image.
    turn: -1 .. 1, a head-turn-like perspective squash (positive = the face's image-right side recedes).
    gain: per-channel (R, G, B) colour gain; gamma: tone curve exponent; offset: added level (0..255 scale).
    """

    centre: tuple[float, float] = (0.5, 0.45)
    eye_dist: float = 0.1
    roll_deg: float = 0.0
    turn: float = 0.0
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    offset: float = 0.0


def sample_pose(rng: np.random.Generator, roll_deg: float = 25.0, turn: float = 0.7) -> Pose:
    """A random in-frame pose with random light and colour (for making many views of one photo)."""
    return Pose(centre=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.38, 0.52))),
                eye_dist=float(rng.uniform(0.14, 0.22)), roll_deg=float(rng.uniform(-roll_deg, roll_deg)),
                turn=float(rng.uniform(-turn, turn)), gain=tuple(float(g) for g in rng.uniform(0.7, 1.25, 3)),
                gamma=float(rng.uniform(0.7, 1.4)), offset=float(rng.uniform(-25, 25)))  # type: ignore[arg-type]


def pose_matrix(photo: FacePhoto, pose: Pose, size: tuple[int, int]) -> np.ndarray:
    """(3, 3) homography from photo pixels to output pixels (size = (width, height))."""
    w, h = size
    ex, ey = photo.eye_mid_px
    d = photo.eye_dist_px
    s = pose.eye_dist * w / d
    centre = np.array([[1, 0, -ex], [0, 1, -ey], [0, 0, 1]], dtype=np.float64)
    to_units = np.diag([1 / d, 1 / d, 1.0])  # face units: 1 = eye distance
    # a turn: the face narrows (cos-like squash) and one side shrinks in perspective
    k = 0.12 * pose.turn
    squash = 1.0 - 0.3 * abs(pose.turn)
    turn = np.array([[squash, 0, 0], [0, 1, 0], [k, 0, 1]], dtype=np.float64)
    a = math.radians(pose.roll_deg)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    place = np.array([[s * d, 0, pose.centre[0] * w], [0, s * d, pose.centre[1] * h], [0, 0, 1]])
    return place @ rot @ turn @ to_units @ centre


def _tone_lut(pose: Pose) -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    curves = [np.clip(255.0 * (v ** pose.gamma) * g + pose.offset, 0, 255) for g in pose.gain]
    return np.stack(curves, axis=-1).astype(np.uint8)[:, None, :]  # (256, 1, 3) for cv2.LUT


def background(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A dim room-like backdrop: a soft vertical gradient with a seed-tinted colour."""
    w, h = size
    rng = np.random.default_rng(seed)
    top, bottom = rng.uniform(30, 70, 3), rng.uniform(10, 40, 3)
    ramp = np.linspace(0.0, 1.0, h)[:, None, None]
    img = top * (1 - ramp) + bottom * ramp
    return np.broadcast_to(img, (h, w, 3)).astype(np.uint8).copy()


def render_pose(photo: FacePhoto, pose: Pose, size: tuple[int, int], backdrop: np.ndarray | None = None,
                noise: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The (H, W, 3) uint8 RGB image of the photo in that pose over the backdrop, toned and noised.

    noise: (add, subtract) uint8 images applied with saturation (see NoiseBank).
    """
    w, h = size
    out = backdrop.copy() if backdrop is not None else background(size)
    cv2.warpPerspective(photo.image, pose_matrix(photo, pose, size), (w, h), dst=out, flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_TRANSPARENT)
    if pose.gain != (1.0, 1.0, 1.0) or pose.gamma != 1.0 or pose.offset != 0.0:
        out = cv2.LUT(out, _tone_lut(pose))
    if noise is not None:
        cv2.add(out, noise[0], dst=out)
        cv2.subtract(out, noise[1], dst=out)
    return out


class NoiseBank:
    """A few precomputed sensor-noise images, picked by frame number: noise costs two saturating adds."""

    def __init__(self, size: tuple[int, int], sigma: float, seed: int, count: int = 6) -> None:
        w, h = size
        rng = np.random.default_rng(seed + 7919)
        self._frames = []
        for _ in range(count):
            n = rng.normal(0.0, sigma, (h, w, 3))
            self._frames.append((np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)))

    def pick(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return self._frames[(n * 7 + n // len(self._frames)) % len(self._frames)]


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


class Motion:
    """The pose as a smooth function of time: sums of slow sines with seed-drawn phases, plus exits.

    Every `exit_period_s` the face slides out of the frame (sideways), stays out a moment and comes back.
    """

    def __init__(self, seed: int = 0, exit_period_s: float = 20.0, exit_s: float = 2.5) -> None:
        rng = np.random.default_rng(seed)
        self._ph = rng.uniform(0, 2 * math.pi, 16)
        self._exit_period_s = exit_period_s
        self._exit_s = exit_s
        self._exit_at = 0.6 * exit_period_s + rng.uniform(0, 0.2 * exit_period_s)
        self._exit_side = 1.0 if rng.uniform() < 0.5 else -1.0

    def _s(self, i: int, hz: float, t: float) -> float:
        return math.sin(2 * math.pi * hz * t + self._ph[i])

    def exit_amount(self, t_s: float) -> float:
        """0 in frame .. 1 fully out (a smooth bump lasting exit_s once a period)."""
        if self._exit_period_s <= 0:
            return 0.0
        u = (t_s - self._exit_at) % self._exit_period_s
        if u >= self._exit_s:
            return 0.0
        ramp = 0.3 * self._exit_s
        return _smoothstep(u / ramp) * _smoothstep((self._exit_s - u) / ramp)

    def pose_at(self, t_s: float) -> Pose:
        s, t = self._s, t_s
        x = 0.5 + 0.16 * s(0, 0.071, t) + 0.04 * s(1, 0.23, t)
        x += self._exit_side * 1.0 * self.exit_amount(t)
        y = 0.45 + 0.08 * s(2, 0.053, t) + 0.03 * s(3, 0.31, t)
        roll = 18.0 * s(4, 0.09, t) + 6.0 * s(5, 0.37, t)  # within about +-24 degrees
        turn = 0.8 * s(6, 0.13, t) * (0.6 + 0.4 * s(7, 0.041, t))
        eye_dist = 0.11 + 0.035 * s(8, 0.06, t) + 0.01 * s(9, 0.29, t)
        gain = tuple(1.0 + 0.1 * s(10 + c, 0.03 + 0.011 * c, t) for c in range(3))
        gamma = 1.0 + 0.15 * s(13, 0.045, t)
        offset = 6.0 * s(14, 0.07, t)
        return Pose((x, y), eye_dist, roll, turn, gain, gamma, offset)  # type: ignore[arg-type]


class SyntheticSource:
    """A camera with no hardware (Source and TimedSource).

    fps, size: the frame rate and (width, height) of the images.
    seed: the motion, backdrop and noise; the same seed and time give the same image.
    dropouts: (start_s, end_s) spans of stream time when it behaves like an unplugged camera: read() returns
      None after its timeout and status is 'lost'; frame_at() returns None.
    fail_after: stop for good after this many frames (a camera that dies): status 'lost' from then on.
    noise_sigma: sensor noise standard deviation (0..255 scale); 0 for none.
    stall_file: while this file exists, live reads stall as a dropout does (a camera that hangs and comes
      back, switched from outside the show by `perform soak`); looked at once per read, a stat.
    """

    def __init__(self, fps: float = 30.0, size: tuple[int, int] = (640, 480), seed: int = 0,
                 dropouts: tuple[tuple[float, float], ...] | list = (), fail_after: int | None = None,
                 noise_sigma: float = 3.0, photo: FacePhoto | None = None, name: str = "synthetic",
                 stall_file: str | Path | None = None) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.name = name
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        self.dropouts = tuple((float(a), float(b)) for a, b in dropouts)
        self.fail_after = fail_after
        self.stall_file = Path(stall_file) if stall_file else None
        self._photo = photo or astronaut()
        self._motion = Motion(seed)
        self._backdrop = background(self.size, seed)
        self._noise = NoiseBank(self.size, noise_sigma, seed) if noise_sigma > 0 else None
        self._n = -1  # last frame number returned by read()
        self._status = "waiting"
        self._closed = threading.Event()
        self._pacer = Pacer(self.fps, self._closed)

    @property
    def status(self) -> str:
        return self._status

    def _dropped(self, t_s: float, index: int) -> bool:
        if self.fail_after is not None and index >= self.fail_after:
            return True
        return any(a <= t_s < b for a, b in self.dropouts)

    def pose_at(self, t_s: float) -> Pose:
        return self._motion.pose_at(t_s)

    def image_at(self, t_s: float) -> np.ndarray:
        """The picture at stream time t_s (ignores dropouts)."""
        n = int(math.floor(t_s * self.fps + 1e-6))
        noise = self._noise.pick(n) if self._noise is not None else None
        return render_pose(self._photo, self._motion.pose_at(t_s), self.size, self._backdrop, noise)

    def frame_at(self, t_s: float, index: int) -> Frame | None:
        """The frame for the fixed clock: stream time t_s, stamped t_s; None inside a dropout."""
        if self._dropped(t_s, index):
            return None
        return Frame(self.image_at(t_s), t_s, index)

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame, paced at fps on time.perf_counter (a slow reader gets the newest, skipping)."""
        if self._closed.is_set():
            return None
        now = time.perf_counter()
        n = self._pacer.wait_next(self._n + 1, timeout_s)
        if n is None:
            return None
        t_stream = n / self.fps
        if self._dropped(t_stream, n) or (self.stall_file is not None and self.stall_file.exists()):
            self._status = "lost"
            # an unplugged camera delivers nothing: the caller waits out its whole timeout
            remaining = timeout_s - (time.perf_counter() - now)
            if remaining > 0:
                self._closed.wait(remaining)
            self._n = max(self._n, self._pacer.frames_elapsed() - 1)
            return None
        self._n = n
        self._status = "ok"
        return Frame(self.image_at(t_stream), time.perf_counter(), n)

    def close(self) -> None:
        self._closed.set()
