"""The live input: blocks from a stream that behaves like sounddevice's InputStream (this machine has no sound
card), analysed as they come; a device that fails, stops or vanishes is silence with a HUD note, never an error."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from perform.audio.analysis import AudioAnalyzer
from perform.audio.features import SILENT
from perform.audio.live import LiveAudioSignals, resolve_device
from perform.errors import PerformError
from tests.audio.conftest import RATE, click_track


class FakeStream:
    """Calls callback(indata (frames, channels) float32, frames, time, status) from its own thread, as PortAudio
    does, with `samples` in blocks; then, like an unplugged device, either stops calling (vanish) or ends and
    calls finished_callback."""

    def __init__(self, samples, blocksize, callback, finished, channels=2, end="vanish"):
        self.samples, self.blocksize, self.callback, self.finished = samples, blocksize, callback, finished
        self.channels, self.end = channels, end
        self.closed = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        for i in range(0, len(self.samples) - self.blocksize + 1, self.blocksize):
            if self.closed.is_set():
                return
            block = np.repeat(self.samples[i:i + self.blocksize, None], self.channels, axis=1).astype(np.float32)
            self.callback(block, self.blocksize, None, None)
        self.done.set()
        if self.end == "finish":
            self.finished()

    def close(self):
        self.closed.set()


def wait_for(cond, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_blocks_from_the_sound_card_are_analysed_as_the_same_samples_offline_would_be():
    samples, _ = click_track(120.0, 4.0)
    streams = []

    def opener(device, rate, blocksize, callback, finished):
        streams.append(FakeStream(samples, blocksize, callback, finished))
        return streams[-1]

    live = LiveAudioSignals(device=None, name="fake", open_stream=opener, stale_s=5.0)
    recorded = []
    live.record_to(lambda t, block, rate: recorded.append((t, block, rate)))
    live.start()
    try:
        assert wait_for(lambda: streams and streams[0].done.is_set())
        # a recording gets the same sound, in order, stamped on the show's clock
        n = len(recorded) * recorded[0][1].size
        np.testing.assert_allclose(np.concatenate([b for _, b, _ in recorded]), samples[:n], atol=1e-6)
        assert all(r == RATE for _, _, r in recorded) and n > len(samples) - 512
        times = [t for t, _, _ in recorded]
        assert times == sorted(times) and abs(times[-1] - time.perf_counter()) < 5.0
        offline = AudioAnalyzer(RATE)
        offline.feed(samples.astype(np.float32))  # the stereo blocks, averaged back to mono
        assert live.values_at(0.0) == offline.values()
        assert live.values_at(0.0).onsets == 8
        assert live.note == "" and "fake" in live.hud_lines()[0]
    finally:
        live.close()
    assert streams[0].closed.is_set()


@pytest.mark.parametrize("end", ["vanish", "finish"])
def test_a_device_that_vanishes_mid_show_falls_back_to_silence_with_a_note_and_is_retried(end):
    samples, _ = click_track(120.0, 1.0)
    streams = []

    def opener(device, rate, blocksize, callback, finished):
        streams.append(FakeStream(samples, blocksize, callback, finished, end=end))
        return streams[-1]

    live = LiveAudioSignals(name="usb mic", open_stream=opener, stale_s=0.3, retry_s=0.3).start()
    try:
        assert wait_for(lambda: streams and streams[0].done.is_set())
        assert wait_for(lambda: live.values_at(0.0) is SILENT and "usb mic" in live.note)
        assert ("stopped" if end == "finish" else "no sound") in live.note
        assert streams[0].closed.is_set()
        assert wait_for(lambda: len(streams) >= 2)  # tried again, like a lost camera
    finally:
        live.close()


def test_a_device_that_fails_to_open_is_silence_with_a_note_never_an_error():
    calls = []

    def opener(device, rate, blocksize, callback, finished):
        calls.append(device)
        raise OSError("PortAudio library not found")

    live = LiveAudioSignals(device=3, name="interface", open_stream=opener, retry_s=0.2).start()
    try:
        assert wait_for(lambda: len(calls) >= 2)  # retried
        assert live.values_at(1.0) is SILENT
        assert "interface failed (PortAudio library not found)" in live.note
        assert live.hud_lines() == [live.note]
    finally:
        live.close()


def test_an_unknown_device_name_lists_the_inputs_there_are():
    devices = [(0, "Built-in Microphone", 2), (3, "Scarlett 2i2 USB", 2), (4, "Scarlett 18i20 USB", 18)]
    assert resolve_device("2i2", devices) == 3
    assert resolve_device("4", devices) == 4
    assert resolve_device("default", devices) is None
    with pytest.raises(PerformError, match=r"matches no input device; the inputs are:\n  0: Built-in Microphone \(2 ch\)"):
        resolve_device("focusrite", devices)
    with pytest.raises(PerformError, match="matches several inputs"):
        resolve_device("scarlett", devices)
    with pytest.raises(PerformError, match="no input device with that index"):
        resolve_device("7", devices)


def test_a_block_is_stamped_when_its_first_sample_was_captured():
    live = LiveAudioSignals(name="fake", open_stream=lambda *a: None)
    before = time.perf_counter()
    t = live._first_sample_time(256, SimpleNamespace(currentTime=50.0, inputBufferAdcTime=49.98))
    assert before - 0.02 <= t <= time.perf_counter() - 0.02  # PortAudio's capture time: 20 ms before the call
    t = live._first_sample_time(256, None)  # a host API that gives no times: the block has just ended
    assert t <= time.perf_counter() - 256 / live.sample_rate
