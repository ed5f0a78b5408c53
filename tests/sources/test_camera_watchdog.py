"""CameraSource's watchdog against fake captures that behave like cv2.VideoCapture when a camera is unplugged."""

import threading
import time

import numpy as np
import pytest

from perform.sources.camera import CameraSource


class FakeCapture:
    """cv2.VideoCapture look-alike. mode: 'ok' (changing frames), 'repeat' (one frame forever),
    'stall_after' (n good frames, then read() blocks until released), 'closed' (fails to open)."""

    def __init__(self, mode="ok", n=5, size=(32, 24)):
        self.mode, self.n, self.size = mode, n, size
        self.count = 0
        self.released = threading.Event()
        self.props = {}

    def isOpened(self):
        return self.mode != "closed"

    def set(self, prop, value):
        self.props[prop] = value
        return True

    def read(self):
        time.sleep(0.005)
        self.count += 1
        if self.mode == "stall_after" and self.count > self.n:
            self.released.wait(30)  # a driver blocking in read(): only release (or never) ends it
            return False, None
        w, h = self.size
        level = 7 if self.mode == "repeat" else self.count % 250
        return True, np.full((h, w, 3), level, np.uint8)

    def release(self):
        self.released.set()


class Factory:
    def __init__(self, *modes):
        self.modes = list(modes)
        self.made = []

    def __call__(self, index):
        cap = FakeCapture(self.modes.pop(0) if len(self.modes) > 1 else self.modes[0])
        self.made.append(cap)
        return cap


def _wait_for(cond, timeout_s=5.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture()
def make():
    sources = []

    def _make(factory, **kw):
        src = CameraSource(0, size=(32, 24), capture_factory=factory, stall_s=0.3, backoff_s=(0.02, 0.1), **kw)
        sources.append(src)
        return src

    yield _make
    for s in sources:
        s.close()


def test_frames_flow_rgb_and_props_are_set(make):
    f = Factory("ok")
    src = make(f)
    frame = src.read(2.0)
    assert frame is not None and frame.image.shape == (24, 32, 3)
    assert _wait_for(lambda: src.status == "ok")
    assert f.made[0].props  # size, fps and buffer size requested
    second = src.read(2.0)
    assert second.index > frame.index


def test_stalled_read_is_detected_and_recovers(make):
    f = Factory("stall_after", "ok")
    src = make(f)
    assert _wait_for(lambda: src.status == "ok")
    assert _wait_for(lambda: src.status == "lost"), "a read() that blocks must be noticed"
    assert _wait_for(lambda: src.status == "ok"), "and the camera reopened when it works again"
    assert len(f.made) >= 2 and src.reconnects >= 1
    before = src.read(1.0)
    assert before is not None and src.read(1.0).index > before.index


def test_repeating_frames_count_as_lost(make):
    f = Factory("repeat", "repeat", "ok")
    src = make(f)
    assert _wait_for(lambda: src.status == "lost")
    assert _wait_for(lambda: src.status == "ok")
    assert len(f.made) >= 3


def test_failing_open_retries_with_backoff_until_it_opens(make):
    f = Factory("closed", "closed", "closed", "ok")
    src = make(f)
    assert src.read(0.05) is None
    assert _wait_for(lambda: src.status == "ok")
    assert len(f.made) == 4
    assert src.read(1.0) is not None


def test_close_ends_promptly_even_with_a_blocked_reader(make):
    f = Factory("stall_after")
    src = make(f)
    assert _wait_for(lambda: src.status == "lost")
    src.close()
    assert src.status == "ended" and src.read(0.01) is None
