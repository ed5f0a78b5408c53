"""Tempo and beat phase from an onset envelope: autocorrelation with a comb over its multiples, then a comb for phase.

Every `update_every` values the last `window_s` of the envelope (spectral flux, one value per analysis hop)
is autocorrelated. A lag L (in hops) scores the mean of the autocorrelation at L, 2L, 3L and 4L (a steady
pulse repeats at every multiple; a lag that is half the beat does not), weighted by a broad prior around
120 BPM (a Gaussian in octaves, sigma one octave) that settles the octave (60 vs 120 BPM score alike on a
click track). The best whole lag is refined to 1/100 hop by the same score on the linearly interpolated
autocorrelation (the 4L term pins it to a quarter of the error of L alone). The phase is the offset at which a
comb of that period, laid back over the last beats from the newest value, collects the most envelope. Pure
numpy; the same envelope gives the same tempo and phase, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.0
MULTIPLES = 4
PHASE_BEATS = 8
LOCAL_S = 0.4  # the envelope's local mean spans this long
MIN_SCORE = 0.1  # the mean normalised autocorrelation over the multiples below which no tempo is taken (noise scores ~0.03)


class TempoTracker:
    """Args: hop_rate: envelope values per second; window_s: how much envelope the estimate looks at;
    update_every: values between estimates; min_bpm/max_bpm: the tempi considered."""

    def __init__(self, hop_rate: float, window_s: float = 8.0, update_every: int = 16, min_bpm: float = 60.0,
                 max_bpm: float = 200.0, min_s: float = 3.0) -> None:
        self.hop_rate = float(hop_rate)
        self._buf = np.zeros(max(8, int(round(window_s * hop_rate))), np.float64)  # a ring: memory stays flat
        self._count = 0
        self.update_every = int(update_every)
        self._min_count = int(round(min_s * hop_rate))
        self._lag_min = max(1, int(math.floor(hop_rate * 60.0 / max_bpm)))
        self._lag_max = int(math.ceil(hop_rate * 60.0 / min_bpm))
        self.period_hops = 0.0   # 0: no estimate yet
        self.beat_hop = 0.0      # envelope index (count - 1 at the newest value) of the last beat found

    @property
    def tempo_bpm(self) -> float:
        return 60.0 * self.hop_rate / self.period_hops if self.period_hops > 0 else 0.0

    def push(self, value: float) -> None:
        self._buf[self._count % len(self._buf)] = value
        self._count += 1
        if self._count >= self._min_count and self._count % self.update_every == 0:
            self._estimate()

    def phase_at(self, hop_pos: float) -> float:
        """The beat phase 0..1 at envelope position `hop_pos` (fractional; 0 on a beat); 0 with no estimate."""
        if self.period_hops <= 0:
            return 0.0
        f = (hop_pos - self.beat_hop) / self.period_hops
        return f - math.floor(f)

    def _envelope(self) -> np.ndarray:
        n = min(self._count, len(self._buf))
        i = self._count % len(self._buf)
        if self._count <= len(self._buf):
            return self._buf[:n].copy()
        return np.concatenate([self._buf[i:], self._buf[:i]])  # oldest first

    def _estimate(self) -> None:
        env = self._envelope()
        n = len(env)
        # the envelope above its local mean (a running mean over LOCAL_S), half-wave rectified: a change of
        # loudness is a step, whose autocorrelation is high at every short lag, and must not read as a tempo
        env = np.maximum(env - _running_mean(env, max(1, int(round(LOCAL_S * self.hop_rate)))), 0.0)
        e = env - env.mean()
        energy = float(e @ e)
        if energy <= 1e-9 * n or n < 2 * self._lag_min * MULTIPLES:
            return  # silence or a constant: keep the last estimate
        size = 1 << (2 * n - 1).bit_length()
        spec = np.fft.rfft(e, size)
        acf = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, size)[:n]
        acf = acf / (n - np.arange(n))  # unbiased: long lags are sums of fewer products
        acf /= acf[0]
        lag_max = min(self._lag_max, (n - 1) // 1)
        if lag_max <= self._lag_min:
            return
        lags = np.arange(self._lag_min, lag_max + 1, dtype=np.float64)
        best = lags[int(np.argmax(self._score(acf, lags) * self._prior(lags)))]
        fine = np.arange(max(self._lag_min, best - 1.0), min(lag_max, best + 1.0) + 1e-9, 0.01)
        period = float(fine[int(np.argmax(self._score(acf, fine) * self._prior(fine)))])
        if self._score(acf, np.array([period]))[0] <= MIN_SCORE:
            return  # no periodicity worth the name (noise, a drone): keep the last estimate
        self.period_hops = period
        # phase: the offset (0..period, quarter hops) where a comb laid back from the newest value sums most
        beats = max(1, min(PHASE_BEATS, int((n - 1) // period)))
        offsets = np.arange(0.0, period, 0.25)
        pos = (n - 1) - offsets[:, None] - period * np.arange(beats)[None, :]  # (offsets, beats)
        score = _interp(env, pos).sum(axis=1)
        self.beat_hop = (self._count - 1) - float(offsets[int(np.argmax(score))])

    @staticmethod
    def _score(acf: np.ndarray, lags: np.ndarray) -> np.ndarray:
        m = np.arange(1, MULTIPLES + 1, dtype=np.float64)
        at = lags[:, None] * m[None, :]  # (lags, multiples)
        # lags past half the envelope rest on too few products to trust; a lag needs two multiples within it
        half = (len(acf) - 1) / 2.0
        valid = at <= half
        mean = np.where(valid, _interp(acf, np.minimum(at, half)), 0.0).sum(1) / np.maximum(valid.sum(1), 1)
        return np.where(valid.sum(1) >= 2, mean, 0.0)

    def _prior(self, lags: np.ndarray) -> np.ndarray:
        bpm = 60.0 * self.hop_rate / lags
        return np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)


def _running_mean(a: np.ndarray, width: int) -> np.ndarray:
    """The mean of a over a centred window of `width` values (shorter at the ends)."""
    c = np.concatenate([[0.0], np.cumsum(a)])
    i = np.arange(len(a))
    lo = np.maximum(i - width // 2, 0)
    hi = np.minimum(i + width - width // 2, len(a))
    return (c[hi] - c[lo]) / (hi - lo)


def _interp(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """a at fractional indices x (0 <= x <= len - 1), linearly interpolated."""
    x = np.clip(x, 0.0, len(a) - 1.0)
    i = np.minimum(np.floor(x).astype(np.int64), len(a) - 2)
    f = x - i
    return a[i] * (1.0 - f) + a[i + 1] * f
