"""The audio signals a mapping can read (`audio.<name>`), their usual ranges, and one frame's values."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Mapping

# mapping source names after "audio."; the order is the HUD's and the docs'
AUDIO_SIGNALS = ("rms", "db", "band.low", "band.mid", "band.high", "flux", "onset", "beat", "tempo")

# each signal's usual range: a mapping's default `in` range
AUDIO_RANGES: Mapping[str, tuple[float, float]] = types.MappingProxyType({
    "rms": (0.0, 0.5), "db": (-60.0, 0.0), "band.low": (0.0, 0.5), "band.mid": (0.0, 0.5), "band.high": (0.0, 0.25),
    "flux": (0.0, 1.0), "onset": (0.0, 1.0), "beat": (0.0, 1.0), "tempo": (60.0, 180.0),
})

# band edges in Hz: low = kick and bass, mid = voices, snare bodies, most instruments, high = hats, cymbals, air
BANDS: tuple[tuple[str, float, float], ...] = (("low", 20.0, 250.0), ("mid", 250.0, 4000.0), ("high", 4000.0, 20000.0))
SILENCE_DB = -90.0


@dataclass(frozen=True, slots=True)
class AudioValues:
    """The audio signals at one moment (`t_s` = samples analysed / sample rate).

    rms: Hann-weighted RMS over the last analysis window (full scale sine = 0.707); db: the same in dBFS
    (floor -90); low/mid/high: the RMS in each band of BANDS (their squares sum to about rms squared);
    flux: spectral flux, held at its peak over the last 1/30 s; onset: 1.0 at an onset, decaying with a
    0.1 s time constant; onsets: onsets so far; beat: phase 0..1 of the estimated beat (0 on the beat);
    tempo: BPM (0 until there is an estimate).
    """

    t_s: float = 0.0
    rms: float = 0.0
    db: float = SILENCE_DB
    low: float = 0.0
    mid: float = 0.0
    high: float = 0.0
    flux: float = 0.0
    onset: float = 0.0
    onsets: int = 0
    beat: float = 0.0
    tempo: float = 0.0

    def sources(self) -> dict[str, float]:
        """{name: value} under the mapping names of AUDIO_SIGNALS."""
        return {"rms": self.rms, "db": self.db, "band.low": self.low, "band.mid": self.mid, "band.high": self.high,
                "flux": self.flux, "onset": self.onset, "beat": self.beat, "tempo": self.tempo}

    def hud(self) -> str:
        bpm = f"{self.tempo:5.1f} BPM beat {self.beat:.2f}" if self.tempo > 0 else "no tempo yet"
        return (f"{self.db:5.1f} dB  low {self.low:.2f} mid {self.mid:.2f} high {self.high:.2f}  "
                f"onsets {self.onsets}  {bpm}")


SILENT = AudioValues()
