"""VideoFileSource: frames from a video file (PyAV), paced live or addressed by time for the fixed clock."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from perform.errors import PerformError
from perform.sources.frame import Frame
from perform.sources.pacing import Pacer

# a forward jump longer than this seeks instead of decoding every frame in between
_SEEK_AHEAD_S = 2.0


class VideoFileSource:
    """A video file as a source (Source and TimedSource).

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
        self.size = (self._stream.codec_context.width, self._stream.codec_context.height)
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
            if self._decode_next() is None:
                raise PerformError(f"{self.path}: no decodable video frames")
        except av.error.FFmpegError as exc:
            self.close()
            raise PerformError(f"cannot decode video file {self.path}: {exc}") from exc
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
        return t, f.to_ndarray(format="rgb24")

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
