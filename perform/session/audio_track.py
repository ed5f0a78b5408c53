"""A session's audio track: the live input's sound as one continuous WAV file on the session's clock.

Sample k of `audio.wav` is the sound at session time k / rate, so a rehearsal reads it like any `--audio` file.
Blocks come stamped with the time of their first sample (the show's clock, relative to the session's origin);
the file follows the stamps, not the count of samples: a gap (a device lost and found again, blocks dropped)
becomes silence, and a block that overlaps what is written (the sound card's clock running ahead of the
computer's) loses its overlap. Within SLACK_S of where the file is, blocks are simply appended, so the jitter
of the callback's stamps never cuts the sound. Mono, 16-bit PCM (the analysis is mono; 5.8 MB a minute at
48 kHz). Blocks are appended raw and the stdlib writer rewrites the header's sizes at each flush, so a flushed
file is a complete WAV even when the process is killed.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

SLACK_S = 0.05  # stamps within this of the file's end are appended as they are
_SILENCE = np.zeros(48_000, np.float32)  # a gap is written from this, a second at a time (no gap-sized buffer)


class AudioTrackWriter:
    """Writes stamped mono blocks (float, full scale +-1) to a WAV file, continuous in session time."""

    def __init__(self, path: str | os.PathLike, sample_rate: int) -> None:
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self._file = open(self.path, "wb")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(self.sample_rate)
        self.samples = 0       # written, silence included
        self.padded = 0        # silence written for gaps
        self.trimmed = 0       # samples left out: before t = 0, or overlapping what was written
        self.other_rate = 0    # blocks at another rate than the file's, left out

    def write(self, t_s: float, block: np.ndarray, sample_rate: int) -> None:
        """A block whose first sample was heard at session time `t_s` (negative before the session began)."""
        if int(sample_rate) != self.sample_rate:
            self.other_rate += 1
            return
        x = np.asarray(block, np.float32).reshape(-1)
        start = int(round(t_s * self.sample_rate))
        slack = int(SLACK_S * self.sample_rate)
        if start < 0:  # before the session's origin
            cut = min(-start, len(x))
            x, start = x[cut:], start + cut
            self.trimmed += cut
        if start > self.samples + slack:
            gap = start - self.samples
            for k in range(0, gap, len(_SILENCE)):
                self._pcm(_SILENCE[: min(len(_SILENCE), gap - k)])
            self.padded += gap
        elif start < self.samples - slack:
            cut = min(self.samples - start, len(x))
            x = x[cut:]
            self.trimmed += cut
        if len(x):
            self._pcm(x)

    def _pcm(self, x: np.ndarray) -> None:
        self._wav.writeframesraw((np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes())
        self.samples += len(x)

    def flush(self) -> None:
        """On disk: every block written so far, under a header that says so."""
        self._wav.writeframes(b"")  # rewrites the header's sizes when they are behind
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._wav.close()  # patches the header; does not close a file it was given
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
