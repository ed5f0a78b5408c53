"""Test audio made here with numpy and written with the stdlib `wave` module: click tracks, sweeps, noise."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

RATE = 48_000


def click_track(bpm: float, seconds: float, rate: int = RATE, offset_s: float = 0.25, amp: float = 0.8,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(samples, click times): 4 ms noise bursts with a 1 ms decay, one every beat from offset_s."""
    x = np.zeros(int(seconds * rate), np.float64)
    times = np.arange(offset_s, seconds - 0.01, 60.0 / bpm)
    n = int(0.004 * rate)
    burst = np.random.default_rng(seed).standard_normal(n) * np.exp(-np.arange(n) / (0.001 * rate)) * amp
    for t in times:
        i = int(round(t * rate))
        x[i:i + n] += burst[:len(x) - i]
    return x, times


def drum_pattern(bpm: float, seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, hats on every eighth, a 55 Hz bass under it all."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * rate))
    t = np.arange(int(0.15 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t / 0.02)) * t) * np.exp(-t / 0.08) * 0.8
    n = int(0.03 * rate)
    hat = np.diff(rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * rate)) * 0.15, prepend=0.0)
    n = int(0.12 * rate)
    snare = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.03 * rate)) * 0.4
    eighth = 30.0 / bpm
    for k in range(int((seconds - 0.2) / eighth) + 1):
        i = int(k * eighth * rate)
        hits = [hat] + ([kick if (k // 2) % 2 == 0 else snare] if k % 2 == 0 else [])
        for h in hits:
            x[i:i + len(h)] += h[:len(x) - i]
    return x + 0.1 * np.sin(2 * np.pi * 55 * np.arange(len(x)) / rate)


def sweep(f0: float, f1: float, seconds: float, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    """A logarithmic sine sweep from f0 to f1 Hz."""
    t = np.arange(int(seconds * rate)) / rate
    k = np.log(f1 / f0) / seconds
    return amp * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1.0) / k)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    """16-bit PCM; a mono signal is copied to every channel."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture
def wav(tmp_path):
    def make(name: str, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
        return write_wav(tmp_path / name, samples, rate, channels)

    return make
