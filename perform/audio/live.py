"""A live audio input (sounddevice / PortAudio) analysed as it arrives; a device that fails or vanishes is silence.

The sound card's callback thread feeds the analyzer and publishes the newest AudioValues (one reference,
replaced whole: the conductor reads it without a lock). A supervisor thread opens the stream, and when no
block has come for `stale_s` (a device unplugged, a driver that stopped calling back) or the stream ends,
closes it, publishes silence with a HUD note and tries again every `retry_s`, like a lost camera. Nothing
here can stop the show: every failure becomes the note.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

import numpy as np

from perform.audio.analysis import AudioAnalyzer
from perform.audio.block_clock import BlockClock
from perform.audio.features import SILENT, AudioValues
from perform.errors import ErrorReporter, PerformError

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
BLOCK = 256  # one analysis hop at 48 kHz: a block is analysed the moment it arrives
MAX_CAPTURE_DELAY_S = 5.0  # capture-to-callback delays beyond this are taken for a host API's missing times


class Stream(Protocol):
    """What sounddevice.InputStream offers and this module uses."""

    def start(self) -> None: ...
    def close(self) -> None: ...


# open_stream(device, samplerate, blocksize, callback, finished_callback) -> a started-able Stream
StreamOpener = Callable[[Any, int, int, Callable, Callable[[], None]], Stream]


def _sounddevice():
    # PortAudio is loaded when sounddevice is imported, and it may be missing (OSError): only when audio is asked for
    try:
        import sounddevice
    except OSError as exc:
        raise PerformError(f"{exc} (install PortAudio: libportaudio2 on Debian/Ubuntu)") from None
    return sounddevice


def input_devices() -> list[tuple[int, str, int]]:
    """(index, name, input channels) of every input device PortAudio sees; PerformError if it cannot look."""
    try:
        sd = _sounddevice()
        devices = sd.query_devices()
    except Exception as exc:  # OSError (no PortAudio), sounddevice.PortAudioError
        raise PerformError(f"audio input unavailable: {exc}") from exc
    return [(i, str(d["name"]), int(d["max_input_channels"])) for i, d in enumerate(devices)
            if int(d["max_input_channels"]) > 0]


def resolve_device(name: str, devices: list[tuple[int, str, int]]) -> int | None:
    """'default' -> None (PortAudio's default input), a number -> that index, else the one input whose name
    contains `name` (case-insensitive); PerformError listing the inputs there are when none or several match."""
    listing = "\n".join(f"  {i}: {n} ({ch} ch)" for i, n, ch in devices) or "  (none)"
    if name.lower() == "default":
        return None
    if name.isdigit():
        if any(i == int(name) for i, _, _ in devices):
            return int(name)
        raise PerformError(f"--audio-in {name}: no input device with that index; the inputs are:\n{listing}")
    hits = [i for i, n, _ in devices if name.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    exact = [i for i, n, _ in devices if n.lower() == name.lower()]
    if len(exact) == 1:
        return exact[0]
    why = "matches several inputs" if hits else "matches no input device"
    raise PerformError(f"--audio-in {name!r} {why}; the inputs are:\n{listing}")


def sounddevice_opener(device, samplerate: int, blocksize: int, callback, finished_callback) -> Stream:
    sd = _sounddevice()
    channels = 1
    try:
        info = sd.query_devices(device, "input")
        channels = max(1, min(2, int(info["max_input_channels"])))
    except Exception:  # the stream below says what is wrong with the device
        pass
    return sd.InputStream(device=device, samplerate=samplerate, blocksize=blocksize, channels=channels,
                          dtype="float32", callback=callback, finished_callback=finished_callback)


class LiveAudioSignals:
    """The newest signals of a live input. Args: device: a PortAudio device (index, or None for the default);
    name: for the HUD; open_stream: makes the stream (tests give one that behaves like sounddevice's)."""

    def __init__(self, device: Any = None, name: str = "default", open_stream: StreamOpener | None = None,
                 sample_rate: int = SAMPLE_RATE, blocksize: int = BLOCK, stale_s: float = 1.0, retry_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.name = name
        self.sample_rate = int(sample_rate)
        self.blocksize = int(blocksize)
        self.stale_s = float(stale_s)
        self.retry_s = float(retry_s)
        self._open_stream = open_stream or sounddevice_opener
        self._clock = clock
        self.analyzer = AudioAnalyzer(self.sample_rate)
        self._values: AudioValues = SILENT
        self._stream: Stream | None = None
        self._last_block = -float("inf")
        self._opened_at = -float("inf")
        self._ended = threading.Event()  # the stream said it finished (device gone, error)
        self._stop = threading.Event()
        self.note = "audio: starting"
        self.blocks = 0
        self.failures = 0
        self._reporter = ErrorReporter(log)
        self._record: Callable[[float, np.ndarray, int], None] | None = None
        self._block_clock = BlockClock(self.sample_rate)  # the recorded blocks' capture times
        self._thread = threading.Thread(target=self._supervise, name="audio-in", daemon=True)

    def start(self) -> "LiveAudioSignals":
        self._thread.start()
        return self

    def record_to(self, add_audio: Callable[[float, np.ndarray, int], None]) -> None:
        """Hand each block to `add_audio(t_s, mono, sample_rate)` (a SessionRecorder's), stamped on the show's
        clock (time.perf_counter) at its first sample. It is called on the sound card's thread: it must not wait."""
        self._record = add_audio

    def values_at(self, t_s: float) -> AudioValues:
        """The newest analysis (t_s is the show's clock: live, the newest is what there is)."""
        return self._values

    # -- the sound card's thread -------------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        try:
            x = np.asarray(indata, dtype=np.float32)
            mono = x.mean(axis=1) if x.ndim == 2 else x.reshape(-1)
            record = self._record
            if record is not None and self._stream is not None:  # a copy: PortAudio reuses its buffer after this
                if getattr(status, "input_overflow", False):  # samples were lost: the count no longer tells time
                    self._block_clock.reset()
                t = self._block_clock.stamp(self._first_sample_time(frames, time_info), frames)
                record(t, np.array(mono, np.float32), self.sample_rate)
            self.analyzer.feed(mono)
            if self._stream is not None:  # a late block from a stream being closed publishes nothing
                self._values = self.analyzer.values()
                self.note = ""
            self._last_block = self._clock()
            self.blocks += 1
        except Exception as exc:  # an exception here would abort the stream: report it and carry on
            self._reporter.report("audio analysis", exc)

    def _first_sample_time(self, frames: int, time_info: Any) -> float:
        """When the block's first sample reached the converter, on time.perf_counter: PortAudio's capture and
        callback times give the delay (a callback late by a stall still stamps its blocks where they belong); a
        host API without them (zeros, or a capture time on another clock) is taken to call back as a block ends."""
        now = time.perf_counter()
        try:
            delay = float(time_info.currentTime) - float(time_info.inputBufferAdcTime)
        except (AttributeError, TypeError, ValueError):
            delay = -1.0
        if not frames / self.sample_rate <= delay < MAX_CAPTURE_DELAY_S:
            delay = frames / self.sample_rate
        return now - delay

    def _finished(self) -> None:
        self._ended.set()

    # -- the supervisor --------------------------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            if self._stream is None:
                self._try_open(now)
            elif self._ended.is_set() or now - max(self._last_block, self._opened_at) > self.stale_s:
                why = "stopped" if self._ended.is_set() else f"no sound for {now - max(self._last_block, self._opened_at):.1f} s"
                self._lose(f"audio: {self.name} {why}; silent, retrying")
            self._stop.wait(min(self.retry_s, self.stale_s) / 4)

    def _try_open(self, now: float) -> None:
        if now - self._opened_at < self.retry_s:
            return
        self._opened_at = now
        self._ended.clear()
        stream = None
        try:
            stream = self._open_stream(self.device, self.sample_rate, self.blocksize, self._callback, self._finished)
            self._block_clock.reset()  # a new stream: its sample count starts again
            self._stream = stream
            stream.start()
        except Exception as exc:  # OSError (no PortAudio), PortAudioError (busy, gone, bad rate), anything else
            self._stream = None
            self.failures += 1
            self._close_quietly(stream)
            self.note = f"audio: {self.name} failed ({str(exc).splitlines()[0][:80]}); silent, retrying"
            if not isinstance(exc, PerformError):
                self._reporter.report("audio input", exc)
            elif self.failures == 1:  # a cause already said in words (PortAudio missing): no traceback, said once
                log.warning("audio input %s: %s; silent, retrying every %.0f s", self.name, exc, self.retry_s)
            self._values = SILENT
            return
        self._last_block = -float("inf")
        self.note = f"audio: {self.name} opening"

    def _lose(self, note: str) -> None:
        stream, self._stream = self._stream, None
        self._close_quietly(stream)
        self.failures += 1
        self._values = SILENT
        self.note = note
        log.warning("%s", note)

    @staticmethod
    def _close_quietly(stream: Stream | None) -> None:
        if stream is None:
            return
        try:
            stream.close()
        except Exception as exc:  # a device already gone may fail to close: it is gone either way
            log.debug("audio stream close: %s", exc)

    def hud_lines(self) -> list[str]:
        return [self.note] if self.note else [f"audio {self.name}: {self._values.hud()}"]

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        stream, self._stream = self._stream, None
        self._close_quietly(stream)


def open_live_input(name: str) -> LiveAudioSignals:
    """The input `--audio-in NAME` names, started. An unknown name is a PerformError listing the inputs (before
    the show); when PortAudio itself is missing the show runs silent, with the reason on the HUD and in the log."""
    try:
        devices = input_devices()
    except PerformError as exc:
        log.warning("%s; the audio signals stay silent", exc)
        device = None
    else:
        device = resolve_device(name, devices)
    return LiveAudioSignals(device, name).start()
