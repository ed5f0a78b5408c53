"""AudioAnalyzer: a stream of mono samples -> level, bands, spectral flux, onsets, tempo and beat phase.

Samples go in in blocks of any size; the analysis runs on a fixed grid of hops (n_fft = the power of two
covering 20 ms, hop = n_fft / 4: 1024 and 256 at 44.1 or 48 kHz, one hop every 5.3 ms at 48 kHz), so the same
samples give the same values whatever the blocks were (a sound card's callbacks, a decoder's packets).
Each hop: a Hann-windowed FFT of the last n_fft samples gives
- rms (Hann-weighted, over the window) and dB, and the RMS in each band of `features.BANDS` (Parseval: the
  bands' squares add up to rms squared, less what lies outside 20 Hz .. 20 kHz);
- spectral flux: the mean over bins of the rise of log(1 + 1000 |X|) since the last hop (log: a rise matters
  as much in a quiet passage as in a loud one);
- an onset at hop k when its flux is a peak (above hop k-1, not below hop k+1: one hop, 5 ms, of look-ahead)
  above an adaptive threshold DELTA + LAMBDA * (mean flux of the previous 0.25 s), and MIN_GAP_S after the last;
- the flux, one value a hop, feeds the TempoTracker (tempo.py).
`values()` is the state after the samples fed so far; its time is samples / rate, which is all the decays
(onset) and the beat phase are computed from.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from perform.audio.features import BANDS, SILENCE_DB, AudioValues
from perform.audio.tempo import TempoTracker

LOG_GAIN = 1000.0     # log(1 + LOG_GAIN * |X|): magnitudes normalised so a full-scale sine peaks at 1
DELTA = 0.05          # onset threshold floor (flux units): steady noise and hum stay below it
LAMBDA = 1.5          # onset threshold over the recent mean flux
THRESHOLD_S = 0.25    # how much past flux the adaptive threshold averages
MIN_GAP_S = 0.05      # onsets closer than this are one onset
ONSET_DECAY_S = 0.1   # audio.onset falls by 1/e this long after an onset
FLUX_HOLD_S = 1.0 / 30.0  # audio.flux is the peak over this long, so a video frame never misses a transient


class AudioAnalyzer:
    """Streaming analysis of one mono channel (float samples, full scale = 1). One thread feeds it."""

    def __init__(self, sample_rate: int = 48_000) -> None:
        if sample_rate < 8000:
            raise ValueError(f"sample rate {sample_rate} Hz too low for audio analysis (need >= 8000)")
        self.sample_rate = int(sample_rate)
        self.n_fft = 1 << math.ceil(math.log2(0.02 * sample_rate))
        self.hop = self.n_fft // 4
        n = self.n_fft
        self._window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)  # periodic Hann
        w_sum, w_sq = float(self._window.sum()), float((self._window ** 2).sum())
        weights = np.full(n // 2 + 1, 2.0)
        weights[0] = weights[-1] = 1.0
        self._power_scale = weights / (n * w_sq)  # |X|^2 -> the bin's share of the mean square
        self._mag_scale = 2.0 / w_sum              # |X| -> a sine's peak amplitude
        freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
        self._bands = [(freqs >= lo) & (freqs < hi) for _, lo, hi, _ in BANDS]
        self._frame = np.zeros(n, np.float64)  # the last n_fft samples
        self._pending = np.zeros(self.hop, np.float64)
        self._n_pending = 0
        self.samples = 0
        self.hops = 0
        self._prev_log = np.zeros(n // 2, np.float64)
        self._past = deque(maxlen=max(1, round(THRESHOLD_S * sample_rate / self.hop)))
        self._hold = deque(maxlen=max(1, round(FLUX_HOLD_S * sample_rate / self.hop)))
        self._min_gap = max(1, round(MIN_GAP_S * sample_rate / self.hop))
        self._f_prev = self._f_cur = 0.0  # flux at hops k-1 and k, while k waits for k+1
        self._thr_cur = math.inf
        self._last_onset_hop = -(10 ** 9)
        self._onset_sample: int | None = None
        self.onsets = 0
        self.tempo = TempoTracker(sample_rate / self.hop)
        self._level: tuple[float, ...] = (0.0,) * (1 + len(BANDS))  # rms, then each band

    def feed(self, samples: np.ndarray) -> None:
        """Mono samples (any length, any float or int dtype in full-scale units)."""
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        i, n = 0, len(x)
        while i < n:
            take = min(self.hop - self._n_pending, n - i)
            self._pending[self._n_pending:self._n_pending + take] = x[i:i + take]
            self._n_pending += take
            i += take
            if self._n_pending == self.hop:
                self.samples += self._n_pending
                self._n_pending = 0
                self._step()

    def _step(self) -> None:
        hop = self.hop
        f = self._frame
        f[:-hop] = f[hop:]
        f[-hop:] = self._pending
        spec = np.fft.rfft(f * self._window)  # (n_fft/2 + 1,)
        power = (spec.real ** 2 + spec.imag ** 2) * self._power_scale
        bands = [math.sqrt(float(power[m].sum())) for m in self._bands]
        self._level = (math.sqrt(float(power.sum())), *bands)
        logmag = np.log1p(LOG_GAIN * self._mag_scale * np.abs(spec[1:]))  # no DC
        rise = logmag - self._prev_log
        self._prev_log = logmag
        flux = float(np.maximum(rise, 0.0).mean())
        self._hold.append(flux)
        self._pick(flux)
        self.tempo.push(flux)
        self.hops += 1

    def _pick(self, flux_next: float) -> None:
        """Decide whether the previous hop (k = hops - 1) was an onset, now that hop k + 1's flux is known."""
        k = self.hops - 1
        f_prev, f_cur = self._f_prev, self._f_cur
        if (k >= 1 and f_cur > f_prev and f_cur >= flux_next and f_cur > self._thr_cur
                and k - self._last_onset_hop >= self._min_gap):
            self._last_onset_hop = k
            self._onset_sample = (k + 1) * self.hop  # the end of hop k's window
            self.onsets += 1
        # the threshold for hop k + 1 comes from the flux before it
        if k >= 0:
            self._past.append(f_cur)
        self._thr_cur = DELTA + LAMBDA * (sum(self._past) / len(self._past) if self._past else 0.0)
        self._f_prev, self._f_cur = f_cur, flux_next

    def values(self) -> AudioValues:
        """The signals after the hops analysed so far (what a video frame at that moment shows)."""
        sr = self.sample_rate
        now = self.samples  # whole hops: a block's unfinished tail changes nothing until its hop is complete
        rms, *bands = self._level
        db = 20.0 * math.log10(rms) if rms > 10 ** (SILENCE_DB / 20.0) else SILENCE_DB
        onset = 0.0
        if self._onset_sample is not None:
            onset = math.exp(-max(0, now - self._onset_sample) / (ONSET_DECAY_S * sr))
        hop_pos = now / self.hop - 1.0  # envelope index of the newest hop
        return AudioValues(t_s=now / sr, rms=rms, db=max(db, SILENCE_DB), bands=tuple(bands),
                           flux=max(self._hold) if self._hold else 0.0, onset=onset, onsets=self.onsets,
                           beat=self.tempo.phase_at(hop_pos), tempo=self.tempo.tempo_bpm)
