"""Audio signals by time for the conductor: from a file on the frame clock, or the newest from a live input.

Both answer `values_at(t_s) -> AudioValues`. A file's answer at t is the analysis of its samples up to t
(decoded by PyAV as it goes, mono at the file's own rate; memory stays flat over any length), so frame n of a
rehearsal sees exactly the audio up to n/fps: what a live input would have given with no input latency.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterator, Protocol

import av
import numpy as np

from perform.audio.analysis import AudioAnalyzer
from perform.audio.features import SILENT, AudioValues
from perform.errors import PerformError

log = logging.getLogger(__name__)


class AudioSignals(Protocol):
    def values_at(self, t_s: float) -> AudioValues: ...
    def close(self) -> None: ...


class FileAudioSignals:
    """The signals of an audio (or video) file's first audio stream, by time from its start.

    `values_at` must be asked at times that do not go backwards (the fixed clock's frame times); after the
    file ends the analysis goes on over silence, so levels fall and onsets stop as they would live."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except (OSError, av.FFmpegError) as exc:
            raise PerformError(f"cannot read audio file {self.path}: {exc}") from exc
        if not self._container.streams.audio:
            self._container.close()
            raise PerformError(f"audio file {self.path} has no audio stream")
        stream = self._container.streams.audio[0]
        self.sample_rate = int(stream.codec_context.sample_rate or stream.rate or 48_000)
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        self._chunks: Iterator[np.ndarray] | None = self._decode()
        self._rest = np.zeros(0, np.float32)  # decoded, not yet analysed
        self.analyzer = AudioAnalyzer(self.sample_rate)
        self._fed = 0
        self._t_prev = -1.0

    def _decode(self) -> Iterator[np.ndarray]:
        for frame in self._container.decode(audio=0):
            for out in self._resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)
        for out in self._resampler.resample(None):
            yield out.to_ndarray().reshape(-1)

    def values_at(self, t_s: float) -> AudioValues:
        if t_s < self._t_prev:
            raise ValueError(f"audio file signals asked for {t_s} s after {self._t_prev} s: time must not go back")
        self._t_prev = t_s
        target = int(round(max(t_s, 0.0) * self.sample_rate))
        while self._fed < target:
            if not len(self._rest):
                self._rest = self._next_chunk(target - self._fed)
            take = min(len(self._rest), target - self._fed)
            self.analyzer.feed(self._rest[:take])
            self._rest = self._rest[take:]
            self._fed += take
        return self.analyzer.values()

    def _next_chunk(self, silence: int) -> np.ndarray:
        if self._chunks is not None:
            try:
                return next(self._chunks)
            except StopIteration:
                self._chunks = None  # past the end: silence, as a live input would hear
            except av.FFmpegError as exc:  # a damaged file: what decoded so far stands, silence after it
                log.warning("audio file %s: decoding stopped at %.2f s: %s", self.path,
                            self._fed / self.sample_rate, exc)
                self._chunks = None
        return np.zeros(min(silence, self.sample_rate), np.float32)

    def close(self) -> None:
        self._chunks = None
        self._container.close()


def maps_audio(runtimes) -> bool:
    """Whether any scene's mappings read an audio.* source (runtimes: the conductor's, each with a .mapper)."""
    return any(getattr(s, "source_kind", "") == "audio" for rt in runtimes for s in getattr(rt.mapper, "specs", ()))


class SilentSignals:
    """No audio input: every signal at rest."""

    def values_at(self, t_s: float) -> AudioValues:
        return SILENT

    def close(self) -> None:
        pass
