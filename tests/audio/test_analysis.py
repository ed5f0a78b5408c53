"""The audio signals from real WAV files decoded by PyAV: onsets at clicks, tempo, beat phase, bands, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perform.audio.analysis import AudioAnalyzer
from perform.audio.signals import FileAudioSignals
from tests.audio.conftest import RATE, click_track, drum_pattern, sweep

FPS = 30


def per_frame(path, seconds: float, fps: int = FPS):
    sig = FileAudioSignals(path)
    try:
        return [sig.values_at(n / fps) for n in range(int(seconds * fps))]
    finally:
        sig.close()


@pytest.mark.parametrize("bpm", [120.0, 97.0])
def test_a_click_track_gives_an_onset_at_each_click_and_its_tempo(wav, bpm):
    samples, clicks = click_track(bpm, 10.0)
    frames = per_frame(wav("clicks.wav", samples, channels=2), 10.0)
    onset_frames = [n for n in range(1, len(frames)) if frames[n].onsets > frames[n - 1].onsets]
    # frame n shows the sound up to n/fps: a click is first seen by the frame at or after it
    heard = [math.ceil(t * FPS) for t in clicks if math.ceil(t * FPS) < len(frames)]
    assert len(onset_frames) == len(heard)
    assert max(abs(a - b) for a, b in zip(onset_frames, heard)) <= 1
    # audio.onset flashes on the frame of the onset (at most a frame of its 0.1 s decay gone) and fades
    assert all(frames[n].onset > 0.6 for n in onset_frames)
    assert all(frames[n + 9].onset < 0.1 for n in onset_frames if n + 9 < len(frames))
    assert frames[-1].tempo == pytest.approx(bpm, abs=2.0)
    # the beat phase: near 0 (either side) on the frames that first hear a click, once the tempo is known
    late = [n for n in heard if n > 5 * FPS]
    dist = [min(frames[n].beat, 1.0 - frames[n].beat) for n in late]
    assert max(dist) < 0.15, dist


@pytest.mark.parametrize("bpm", [96.0, 128.0])
def test_a_drum_pattern_gives_its_tempo_not_double_or_half(bpm):
    a = AudioAnalyzer(RATE)
    a.feed(drum_pattern(bpm, 10.0))  # hats on the eighths: twice the tempo in onsets, once in accents
    v = a.values()
    assert v.tempo == pytest.approx(bpm, abs=2.0)
    assert v.onsets == pytest.approx(10.0 * bpm / 30.0, abs=3)  # every eighth is heard


def test_a_sine_sweep_moves_through_the_bands_in_order(wav):
    frames = per_frame(wav("sweep.wav", sweep(40.0, 16000.0, 3.0)), 3.0)[3:]  # the first frames see the window fill
    loudest = [int(np.argmax(v.bands)) for v in frames]
    assert loudest == sorted(loudest)  # low, then mid, then high, never back
    assert set(loudest) == {0, 1, 2}
    for v in frames[FPS:]:  # a sine at -6 dBFS: rms 0.354 (from 1 s on, above 200 Hz: many cycles per window)
        assert v.rms == pytest.approx(0.5 / math.sqrt(2), rel=0.05)
        assert v.db == pytest.approx(-9.03, abs=0.5)


def test_silence_and_noise_give_no_onsets_and_no_tempo():
    a = AudioAnalyzer(RATE)
    a.feed(np.zeros(RATE))
    assert a.values().db == -90.0 and a.values().onsets == 0
    noise = np.random.default_rng(1).standard_normal(RATE * 8) * 0.1  # steady noise: no beat in it
    a.feed(noise[:RATE // 2])
    started = a.values().onsets  # the noise starting is an onset (or two while the threshold adapts)
    a.feed(noise[RATE // 2:])
    v = a.values()
    assert v.onsets == started and v.tempo == 0.0
    assert v.db == pytest.approx(-20.0, abs=1.0)


def test_the_same_samples_give_the_same_values_whatever_the_blocks():
    samples, _ = click_track(128.0, 6.0)
    samples = samples + 0.05 * np.sin(2 * np.pi * 110 * np.arange(len(samples)) / RATE)
    whole = AudioAnalyzer(RATE)
    whole.feed(samples)
    rng = np.random.default_rng(3)
    blocks = AudioAnalyzer(RATE)
    i = 0
    while i < len(samples):
        n = int(rng.integers(1, 2000))  # a sound card's callbacks, a decoder's packets: any sizes
        blocks.feed(samples[i:i + n])
        i += n
    assert blocks.values() == whole.values()
    assert whole.values().tempo == pytest.approx(128.0, abs=2.0)


def test_a_file_past_its_end_is_silence_and_time_must_not_go_back(wav):
    samples, _ = click_track(120.0, 1.0)
    sig = FileAudioSignals(wav("short.wav", samples))
    try:
        loud = sig.values_at(0.3)
        assert loud.onsets == 1
        after = sig.values_at(2.0)
        assert after.db == -90.0 and after.onsets == 2 and after.onset < 0.01
        with pytest.raises(ValueError):
            sig.values_at(1.0)
    finally:
        sig.close()
