"""The audio signals a mapping can read (`audio.<name>`), their usual ranges, and one frame's values."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Mapping, NamedTuple


class Band(NamedTuple):
    """A frequency band: its mapping name (`audio.band.<name>`), edges in Hz and usual RMS ceiling."""

    name: str
    lo_hz: float
    hi_hz: float
    usual_max: float


# low = kick and bass, mid = voices, snare bodies, most instruments, high = hats, cymbals, air; the analyser,
# the mapping names, their ranges and the HUD all take the bands from here
BANDS: tuple[Band, ...] = (Band("low", 20.0, 250.0, 0.5), Band("mid", 250.0, 4000.0, 0.5),
                           Band("high", 4000.0, 20000.0, 0.25))
SILENCE_DB = -90.0

# each signal's usual range (a mapping's default `in` range), in the HUD's and the docs' order
AUDIO_RANGES: Mapping[str, tuple[float, float]] = types.MappingProxyType({
    "rms": (0.0, 0.5), "db": (-60.0, 0.0), **{f"band.{b.name}": (0.0, b.usual_max) for b in BANDS},
    "flux": (0.0, 1.0), "onset": (0.0, 1.0), "beat": (0.0, 1.0), "tempo": (60.0, 180.0),
})
# mapping source names after "audio."
AUDIO_SIGNALS = tuple(AUDIO_RANGES)


@dataclass(frozen=True, slots=True)
class AudioValues:
    """The audio signals at one moment (`t_s` = samples analysed / sample rate).

    rms: Hann-weighted RMS over the last analysis window (full scale sine = 0.707); db: the same in dBFS
    (floor -90); bands: the RMS in each band of BANDS, in its order (their squares sum to about rms squared);
    flux: spectral flux, held at its peak over the last 1/30 s; onset: 1.0 at an onset, decaying with a
    0.1 s time constant; onsets: onsets so far; beat: phase 0..1 of the estimated beat (0 on the beat);
    tempo: BPM (0 until there is an estimate).
    """

    t_s: float = 0.0
    rms: float = 0.0
    db: float = SILENCE_DB
    bands: tuple[float, ...] = (0.0,) * len(BANDS)
    flux: float = 0.0
    onset: float = 0.0
    onsets: int = 0
    beat: float = 0.0
    tempo: float = 0.0

    def sources(self) -> dict[str, float]:
        """{name: value} under the mapping names of AUDIO_SIGNALS."""
        return {"rms": self.rms, "db": self.db, **{f"band.{b.name}": v for b, v in zip(BANDS, self.bands)},
                "flux": self.flux, "onset": self.onset, "beat": self.beat, "tempo": self.tempo}

    def hud(self) -> str:
        bpm = f"{self.tempo:5.1f} BPM beat {self.beat:.2f}" if self.tempo > 0 else "no tempo yet"
        bands = " ".join(f"{b.name} {v:.2f}" for b, v in zip(BANDS, self.bands))
        return f"{self.db:5.1f} dB  {bands}  onsets {self.onsets}  {bpm}"


SILENT = AudioValues()
