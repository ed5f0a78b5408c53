"""VideoFileSource: frames from a video file (PyAV), paced live or addressed by time for the fixed clock."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from perform.errors import PerformError
from perform.sources.frame import Frame
from perform.sources.pacing import Pacer

# a forward jump longer than this seeks instead of decoding every frame in between
_SEEK_AHEAD_S = 2.0

_IDENTITY = (False, False, False)


def display_orientation(frame: av.VideoFrame, metadata: dict[str, str]) -> tuple[bool, bool, bool]:
    """(transpose, flip_x, flip_y) turning a decoded frame the way players show it, applied in that order.

    Phones store portrait video sideways and say how to turn it: a display matrix (side data; the 8 EXIF-like
    orientations, flips included) or, in files from older muxers, a `rotate` tag (degrees clockwise).
    The matrix maps a decoded pixel (x, y) to x' = a x + c y, y' = b x + d y (FFmpeg's layout, 16.16 fixed).
    """
    sd = frame.side_data.get(av.sidedata.sidedata.Type.DISPLAYMATRIX)
    if sd is not None:
        m = np.frombuffer(bytes(sd), dtype=np.int32)
        if m.size >= 5:
            a, b, c, d = (float(v) for v in m[[0, 1, 3, 4]])
            if abs(a) + abs(d) >= abs(b) + abs(c):
                return False, a < 0, d < 0
            return True, c < 0, b < 0  # after the transpose x' = c x, y' = b y
    tag = next((v for k, v in metadata.items() if k.lower() == "rotate"), None)
    try:
        quarter = round(float(tag) / 90) % 4 if tag is not None else 0
    except (ValueError, OverflowError):  # a tag that is not a number: show the frames as stored
        quarter = 0
    return (_IDENTITY, (True, True, False), (False, True, True), (True, False, True))[quarter]


# OpenCV's flip codes for (flip_x, flip_y); its rotations do a transpose and a flip in one pass (numpy's
# strided copy of a transposed 1080p frame took 55 ms, cv2.rotate 12 ms on a busy 2-core machine)
_FLIP = {(True, False): 1, (False, True): 0, (True, True): -1}
_ROTATE = {(True, False): cv2.ROTATE_90_CLOCKWISE, (False, True): cv2.ROTATE_90_COUNTERCLOCKWISE}


def orient(image: np.ndarray, orientation: tuple[bool, bool, bool]) -> np.ndarray:
    """The (H, W, 3) image turned by display_orientation's answer (a new array unless unchanged)."""
    transpose, flips = orientation[0], orientation[1:]
    if transpose and flips in _ROTATE:
        return cv2.rotate(image, _ROTATE[flips])
    if transpose:
        image = cv2.transpose(image)
    return cv2.flip(image, _FLIP[flips]) if flips in _FLIP else image


class VideoFileSource:
    """A video file as a source (Source and TimedSource), its frames turned upright as a player shows them.

    read(): the next frame, paced at the file's frame rate on time.perf_counter; at the end status is
      'ended' and read returns None (or, with loop=True, it starts again from the first frame).
    frame_at(t_s, index): the frame showing at t_s seconds into the file (the last one whose time is <= t_s;
      sequential access decodes forward, anything else seeks); None past the end unless loop.
    Raises PerformError naming the file when it is missing, unreadable or has no video stream.
    """

    def __init__(self, path: str | Path, loop: bool = False, name: str | None = None) -> None:
        self.path = Path(path)
        self.loop = loop
        self.name = name or str(self.path)
        if not self.path.is_file():
            raise PerformError(f"video file not found: {self.path}")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise PerformError(f"cannot read video file {self.path}: {exc}") from exc
        if not self._container.streams.video:
            self._container.close()
            raise PerformError(f"{self.path} has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        self.fps = float(rate)
        if not self.fps > 0:
            self.fps = 30.0
        self._tb = float(self._stream.time_base or Fraction(1, 1000))
        self._start_s = float(self._stream.start_time * self._tb) if self._stream.start_time is not None else 0.0
        self.duration_s = self._probe_duration()
        self._orientation: tuple[bool, bool, bool] | None = None  # read off the first decoded frame
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._frames = None  # the decode iterator
        self._cur: tuple[float, np.ndarray] | None = None  # (time in file, image) of the last decoded frame
        self._next: tuple[float, np.ndarray] | None = None  # one decoded frame beyond the current
        self._eof = False
        self._status = "waiting"
        self._pacer = Pacer(self.fps, self._closed)
        self._read_n = 0  # the live clock's next frame number
        self._pos = 0  # the live clock's decoded frame number
        try:  # fail now, before the show, if the stream does not decode at all
            first = self._decode_next()
            if first is None:
                raise PerformError(f"{self.path}: no decodable video frames")
        except av.error.FFmpegError as exc:
            self.close()
            raise PerformError(f"cannot decode video file {self.path}: {exc}") from exc
        self.size = (first[1].shape[1], first[1].shape[0])  # as displayed: a portrait phone video is portrait
        self._rewind()

    def _probe_duration(self) -> float | None:
        if self._stream.duration is not None:
            return float(self._stream.duration * self._tb)
        if self._container.duration is not None:
            return self._container.duration / 1_000_000
        return None

    @property
    def status(self) -> str:
        return self._status

    # --- decoding -------------------------------------------------------------------------------------
    def _decode_next(self) -> tuple[float, np.ndarray] | None:
        """The next frame in decode order as (time in the file, rgb image), or None at the end."""
        if self._eof:
            return None
        if self._frames is None:
            self._frames = self._container.decode(self._stream)
        try:
            f = next(self._frames)
        except (StopIteration, av.error.EOFError):
            self._eof = True
            return None
        t = (float(f.pts * self._tb) if f.pts is not None else 0.0) - self._start_s
        if self._orientation is None:  # one orientation for the whole stream: frame sizes never change
            self._orientation = display_orientation(f, dict(self._stream.metadata))
        return t, orient(f.to_ndarray(format="rgb24"), self._orientation)

    def _rewind(self, t_s: float = 0.0) -> None:
        target = int((t_s + self._start_s) / self._tb)
        self._container.seek(max(target, 0), stream=self._stream, backward=True, any_frame=False)
        self._frames = None
        self._eof = False
        self._cur = self._decode_next()
        self._next = self._decode_next()

    def _advance(self) -> bool:
        if self._next is None:
            return False
        self._cur, self._next = self._next, self._decode_next()
        return True

    def _at(self, t_s: float) -> np.ndarray | None:
        eps = 0.25 / self.fps  # frame times carry rounding; a request at n/fps means frame n
        if self._cur is None or t_s + eps < self._cur[0] or t_s - self._cur[0] > _SEEK_AHEAD_S:
            self._rewind(t_s)
        if self._cur is None:
            return None
        while self._next is not None and self._next[0] <= t_s + eps:
            self._advance()
        if self._next is None and t_s >= self._cur[0] + 1.0 / self.fps - eps:
            return None  # past the last frame's display time: the end
        return self._cur[1]

    # --- the two clocks -------------------------------------------------------------------------------
    def frame_at(self, t_s: float, index: int) -> Frame | None:
        with self._lock:
            if self.loop and self.duration_s:
                t_s = math.fmod(t_s, self.duration_s)
            img = self._at(t_s)
            if img is None:
                self._status = "ended"
                return None
            self._status = "ok"
            return Frame(img, t_s, index)

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame on the live clock: frame n is due at start + n/fps; a slow reader skips ahead."""
        if self._closed.is_set() or self._status == "ended":
            return None
        n = self._pacer.wait_next(self._read_n, timeout_s)
        if n is None:
            return None
        with self._lock:
            if self._read_n == 0:
                self._rewind()
                self._pos = 0
            while self._pos < n:
                if not self._advance():
                    if not self.loop:
                        self._status = "ended"
                        return None
                    self._rewind()
                self._pos += 1
            if self._cur is None:
                self._status = "ended"
                return None
            self._status = "ok"
            self._read_n = n + 1
            return Frame(self._cur[1], time.perf_counter(), n)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            with contextlib.suppress(av.error.FFmpegError, OSError):  # a broken file: nothing left to free
                self._container.close()
