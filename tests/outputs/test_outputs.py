"""Outputs: the MPEG-TS stream over UDP read back by PyAV; latest-wins hand-over that never blocks the caller."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from perform.errors import PerformError
from perform.outputs.hub import OutputHub, OutputWorker
from perform.outputs.options import OutputOptions, make_sinks
from perform.outputs.stream import StreamSink
from tests.outputs.conftest import BlockingSink, UDPReceiver


def frame(i: int, size=(64, 48)) -> np.ndarray:
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[..., 0] = (5 * i) % 256
    img[: size[1] // 2, :, 2] = 200
    return img


def test_the_udp_stream_reads_back_with_the_right_size_frames_and_content():
    rx = UDPReceiver()
    try:
        sink = StreamSink(rx.url, (64, 48), 30)
        sink.open()
        for i in range(45):
            sink.send(frame(i))
        sink.close()
        got = rx.frames()
    finally:
        rx.close()
    assert len(got) == 45
    assert got[0].shape == (48, 64, 3)
    red = [float(g[..., 0].mean()) for g in got]
    assert red == sorted(red) and red[-1] == pytest.approx(220, abs=8)  # in order, the colours kept
    assert got[10][5, 5, 2] > 150 and got[10][40, 5, 2] < 50  # top row first


def test_a_frame_of_another_size_is_fitted_to_the_stream():
    rx = UDPReceiver()
    try:
        sink = StreamSink(rx.url, (64, 48), 30)
        sink.open()
        sink.send(frame(1, size=(128, 96)))  # a resized window
        sink.close()
        (got,) = rx.frames()
    finally:
        rx.close()
    assert got.shape == (48, 64, 3)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_an_output_that_blocks_never_blocks_the_caller_and_counts_what_it_dropped():
    sink = BlockingSink()
    clock = Clock()
    worker = OutputWorker(sink, clock=clock).start()
    try:
        worker.submit(frame(0))
        assert sink.entered.wait(10.0)
        for i in range(1, 60):  # the render loop's ticks go on while the sink is stuck
            worker.submit(frame(i))
        assert worker.submitted == 60 and worker.dropped == 58  # one in the sink, one waiting, the rest dropped
        clock.t = 5.0
        assert "blocked 5 s" in worker.status()
        sink.release.set()
        assert wait_for(lambda: worker.sent == 2)
        assert sink.sent[-1][0, 0, 0] == (5 * 59) % 256  # the newest frame won
    finally:
        sink.release.set()
        assert worker.close()


def test_a_blocked_output_is_left_behind_at_the_end_not_waited_for():
    sink = BlockingSink()
    worker = OutputWorker(sink).start()
    worker.submit(frame(0))
    assert sink.entered.wait(10.0)
    assert worker.close(timeout_s=0.1) is False
    sink.release.set()


class FlakySink:
    """Fails to open once, then fails one send: each failure closes it, notes why, and it is opened again."""

    name = "flaky"

    def __init__(self) -> None:
        self.opens = self.closes = 0
        self.sent = 0
        self.event = threading.Event()

    def open(self) -> None:
        self.opens += 1
        if self.opens == 1:
            raise ConnectionRefusedError("no receiver")

    def send(self, f: np.ndarray) -> None:
        if self.sent == 0 and self.opens == 2:
            self.sent = -1
            raise OSError("network is unreachable")
        self.sent += 1
        self.event.set()

    def close(self) -> None:
        self.closes += 1


def test_a_failing_output_is_noted_and_retried():
    sink, clock = FlakySink(), Clock()
    hub = OutputHub([sink], retry_s=1.0)
    hub.workers[0]._clock = clock
    hub.start()
    try:
        worker = hub.workers[0]
        hub.submit(frame(0))
        assert wait_for(lambda: worker.failures == 1)
        assert "open failed: no receiver" in hub.hud_lines()[0]
        for t in (1.5, 3.0, 4.5):
            clock.t = t
            sink.event.clear()
            hub.submit(frame(1))
            wait_for(lambda: worker._pending is None)
        assert wait_for(lambda: sink.sent >= 1)
        assert sink.opens == 3 and sink.closes == 1 and worker.failures == 2
    finally:
        hub.close()
    assert sink.closes == 2
    assert "flaky sent" in hub.summary()


def test_outputs_that_need_a_missing_package_or_another_os_say_so_before_the_show():
    with pytest.raises(PerformError, match=r"pip install 'perform-av\[vcam\]'"):
        make_sinks(OutputOptions(vcam=""), (64, 48), 30)
    with pytest.raises(PerformError, match="Windows only"):
        make_sinks(OutputOptions(spout=("perform",)), (64, 48), 30)
    with pytest.raises(PerformError, match="macOS only"):
        make_sinks(OutputOptions(syphon=("perform",)), (64, 48), 30)
    with pytest.raises(PerformError, match="expected a URL"):
        make_sinks(OutputOptions(stream=("127.0.0.1:5000",)), (64, 48), 30)


def wait_for(cond, timeout_s: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


class _FakeSpout:
    """SpoutGL (a Windows-only package) as far as SpoutSink uses it, recording the calls."""

    def __init__(self, fail_name: bool = False) -> None:
        self.calls: list = []
        self.fail_name = fail_name

    def SpoutSender(self):
        spout = self

        class Sender:
            def setSenderName(self, name):
                if spout.fail_name:
                    raise RuntimeError("no sender")
                spout.calls.append(("name", name))

            def sendImage(self, image, w, h, fmt, flip, fbo):
                spout.calls.append(("image", image.shape, int(image[..., 3].min()), (w, h)))
                return True

            def releaseSender(self):
                spout.calls.append("release sender")

        return Sender()


def _spout_sink(monkeypatch, spout: _FakeSpout):
    from perform.outputs import optional

    class Context:
        def release(self):
            spout.calls.append("release context")

    monkeypatch.setattr(optional.sys, "platform", "win32")
    monkeypatch.setattr(optional, "_require", lambda *a, **k: spout)
    monkeypatch.setattr(optional.moderngl, "create_standalone_context", lambda: spout.calls.append("context") or Context())
    return optional.SpoutSink("perform", (64, 48))


def test_a_spout_sink_sends_opaque_rgba_of_its_size_and_releases_the_sender_before_its_context(monkeypatch):
    spout = _FakeSpout()
    sink = _spout_sink(monkeypatch, spout)
    sink.open()
    sink.send(frame(1, size=(32, 24)))
    sink.close()
    sink.close()
    assert spout.calls == ["context", ("name", "perform"), ("image", (48, 64, 4), 255, (64, 48)),
                           "release sender", "release context"]


def test_a_spout_sink_that_fails_to_open_releases_what_it_made(monkeypatch):
    spout = _FakeSpout(fail_name=True)
    sink = _spout_sink(monkeypatch, spout)
    with pytest.raises(RuntimeError, match="no sender"):
        sink.open()  # the hub retries an open every few seconds: nothing may pile up
    assert spout.calls == ["context", "release sender", "release context"]
