"""CameraSource: an OpenCV camera read in its own thread, with a watchdog that survives unplugging.

OpenCV cannot be trusted to say a camera is gone: depending on the backend, `read()` keeps returning the
last frame, returns False forever, or blocks forever. So a supervisor thread watches frames *arrive* (and
notices identical repeats) instead of trusting `read()`; on loss it abandons the capture, reports 'lost',
and opens the camera again in the background with backoff until frames flow again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import cv2
import numpy as np

from perform.errors import Backoff
from perform.mailbox import Mailbox
from perform.sources.frame import Frame

log = logging.getLogger(__name__)

CaptureFactory = Callable[[int], Any]  # index -> an object behaving like cv2.VideoCapture


def opencv_capture(index: int) -> cv2.VideoCapture:
    """The default factory: OpenCV's capture for a camera index."""
    return cv2.VideoCapture(index)


class _Reader:
    """One capture's life: open, read until told to stop or it fails. Runs on its own daemon thread.

    Abandoned readers (stalled in read() or open) are never joined: if the call ever returns they notice
    `stop` and release their capture themselves.
    """

    def __init__(self, owner: "CameraSource", generation: int) -> None:
        self.owner = owner
        self.generation = generation
        self.stop = threading.Event()
        self.t_start = time.perf_counter()
        self.opened = False
        self.failed: str | None = None  # why it gave up (open failed, read() failing)
        self.t_new: float | None = None  # last frame that differed from the one before
        self.thread = threading.Thread(target=self._run, name=f"camera{owner.index}-reader{generation}",
                                       daemon=True)

    def _run(self) -> None:
        cap = None
        try:
            cap = self.owner.capture_factory(self.owner.index)
            if self.stop.is_set():
                return
            if cap is None or not cap.isOpened():
                self.failed = "could not open"
                return
            self.owner._configure(cap)
            self.opened = True
            previous: np.ndarray | None = None
            bad = 0
            while not self.stop.is_set():
                ok, img = cap.read()
                now = time.perf_counter()
                if self.stop.is_set():
                    break
                if not ok or img is None or img.ndim != 3:
                    bad += 1
                    if bad >= self.owner.max_bad_reads:
                        self.failed = f"read() failed {bad} times in a row"
                        return
                    self.stop.wait(0.01)
                    continue
                bad = 0
                # a cheap signature: a frozen driver repeats frames exactly. The first frame does not count
                # as new: a reopened camera that is still frozen must not flicker back to 'ok'.
                sig = img[::16, ::16].copy()
                if previous is not None and not np.array_equal(sig, previous):
                    self.t_new = now
                previous = sig
                self.owner._deliver(self, cv2.cvtColor(img, cv2.COLOR_BGR2RGB), now)
        except Exception as exc:  # a driver error must not escape the thread; the supervisor reopens
            self.failed = f"{type(exc).__name__}: {exc}"
        finally:
            if cap is not None:
                try:
                    cap.release()
                except Exception as exc:
                    log.debug("camera %d: release failed: %s", self.owner.index, exc)


class CameraSource:
    """A live camera (Source).

    index: the OpenCV camera index. size, fps: requested (the driver may choose others).
    stall_s: no new frame for this long (after opening) = lost. Identical repeated frames do not count as new.
    open_timeout_s: opening that takes longer = lost (some drivers block in open when a device vanished).
    backoff_s: (first, max) wait between attempts to open again; doubles each failed attempt.
    capture_factory: index -> a cv2.VideoCapture-like object (read, isOpened, set, release); for tests.
    """

    def __init__(self, index: int = 0, size: tuple[int, int] = (1280, 720), fps: float = 30.0, *,
                 stall_s: float = 2.0, open_timeout_s: float = 10.0, backoff_s: tuple[float, float] = (0.5, 5.0),
                 max_bad_reads: int = 30, capture_factory: CaptureFactory | None = None,
                 name: str | None = None) -> None:
        self.index = int(index)
        self.name = name or f"camera:{self.index}"
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        self.stall_s = stall_s
        self.open_timeout_s = open_timeout_s
        self.backoff_s = backoff_s
        self.max_bad_reads = max_bad_reads
        self.capture_factory = capture_factory or opencv_capture
        self._frames: Mailbox[Frame] = Mailbox()
        self._seen = 0
        self._n = 0
        self._lock = threading.Lock()
        self._reader: _Reader | None = None
        self._status = "waiting"
        self._closed = threading.Event()
        self.reconnects = 0
        self._supervisor = threading.Thread(target=self._supervise, name=f"camera{self.index}-watchdog",
                                            daemon=True)
        self._supervisor.start()

    @property
    def status(self) -> str:
        return self._status

    def _configure(self, cap: Any) -> None:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        # a driver-side queue of old frames only adds latency
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def _deliver(self, reader: _Reader, rgb: np.ndarray, t: float) -> None:
        with self._lock:
            if reader is not self._reader:  # an abandoned reader that woke up late
                return
            n = self._n
            self._n += 1
        self._frames.put(Frame(rgb, t, n))

    def _set_status(self, status: str, why: str = "") -> None:
        if status == self._status:
            return
        previous, self._status = self._status, status
        if status == "ok":
            log.warning("%s: %s", self.name, "frames arriving" if previous == "waiting" else "back")
        elif status == "lost":
            log.warning("%s: lost (%s); retrying in the background", self.name, why)
        elif status != "ended":
            log.info("%s: %s %s", self.name, status, why)

    def _health(self, r: _Reader, now: float) -> str | None:
        """Why the current reader is to be abandoned, or None while it is healthy."""
        if r.failed:
            return r.failed
        if not r.opened:
            return f"open took over {self.open_timeout_s:.1f} s" if now - r.t_start > self.open_timeout_s else None
        last = r.t_new if r.t_new is not None else r.t_start
        if now - last > self.stall_s:
            frame, _ = self._frames.peek()
            if frame is not None and r.t_new is not None and now - frame.t_capture_s < self.stall_s:
                return f"frames frozen (identical) for {self.stall_s:.1f} s"
            return f"no frames for {self.stall_s:.1f} s"
        return None

    def _supervise(self) -> None:
        backoff = Backoff(self.backoff_s)
        generation = 0
        while not self._closed.is_set():
            generation += 1
            reader = _Reader(self, generation)
            with self._lock:
                self._reader = reader
            reader.thread.start()
            why = None
            while not self._closed.is_set():
                self._closed.wait(min(0.05, self.stall_s / 4))
                now = time.perf_counter()
                why = self._health(reader, now)
                if why:
                    break
                if reader.t_new is not None and now - reader.t_new < self.stall_s:
                    self._set_status("ok")
                    backoff.ok()
            reader.stop.set()
            with self._lock:
                self._reader = None
            if self._closed.is_set():
                break
            log.debug("%s: attempt %d ended: %s", self.name, generation, why)
            self._set_status("lost", why or "")
            self.reconnects += 1
            backoff.wait(self._closed)
        self._set_status("ended")

    def read(self, timeout_s: float) -> Frame | None:
        """The newest frame not returned before, or None if none arrived within timeout_s."""
        if self._closed.is_set():
            return None
        frame, version = self._frames.get(self._seen, timeout_s)
        if version <= self._seen or frame is None or self._closed.is_set():
            return None
        self._seen = version
        return frame

    def close(self) -> None:
        self._closed.set()
        self._frames.close()
        self._supervisor.join(timeout=2.0)
        self._status = "ended"
