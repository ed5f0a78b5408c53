"""A session's recorded sound (audio.wav): continuous on the session's clock, kill-safe, heard by a rehearsal."""

from __future__ import annotations

import json
import shutil
import threading
import wave

import numpy as np
import pytest

from perform.audio.signals import FileAudioSignals
from perform.control.events import ControlEvent
from perform.session import SessionRecorder, load_session
from perform.session import format as fmt
from perform.session.audio_track import AudioTrackWriter
from perform.tracking.observation import FEATURE_NAMES, FaceObservation

RATE = 48_000
BLOCK = 256


def _read(path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32767.0


def _ramp(n: int, start: int = 0) -> np.ndarray:
    """Samples that say where they belong: sample k is (k mod 1000) / 2000."""
    return ((np.arange(start, start + n) % 1000) / 2000.0).astype(np.float32)


def test_jittered_stamps_append_and_gaps_and_overlaps_follow_the_clock(tmp_path):
    w = AudioTrackWriter(tmp_path / "a.wav", RATE)
    rng = np.random.default_rng(0)
    for k in range(40):  # blocks stamped a few ms off, as a callback's clock reads: appended as they are
        w.write(k * BLOCK / RATE + rng.uniform(-0.01, 0.01), _ramp(BLOCK, k * BLOCK), RATE)
    n = 40 * BLOCK
    assert (w.samples, w.padded, w.trimmed) == (n, 0, 0)
    w.write(n / RATE + 0.3, np.full(BLOCK, 0.5, np.float32), RATE)  # the device was gone for 0.3 s
    gap = int(round(0.3 * RATE))
    assert w.padded == gap and w.samples == n + gap + BLOCK
    end = w.samples
    w.write(end / RATE - 0.2, np.full(int(0.3 * RATE), -0.5, np.float32), RATE)  # 0.2 s already written
    assert w.trimmed == int(round(0.2 * RATE)) and w.samples == end + int(0.1 * RATE)
    w.write(0.0, np.ones(BLOCK, np.float32), 44_100)  # another rate: left out, counted
    assert w.other_rate == 1
    w.close()
    x = _read(tmp_path / "a.wav")
    assert len(x) == w.samples
    np.testing.assert_allclose(x[:n], _ramp(n), atol=1 / 32767)
    assert not x[n:n + gap].any() and np.allclose(x[n + gap:end], 0.5, atol=1e-4)
    assert np.allclose(x[end:], -0.5, atol=1e-4)


def test_a_block_from_before_the_session_began_keeps_only_its_part_after_t0(tmp_path):
    w = AudioTrackWriter(tmp_path / "a.wav", RATE)
    w.write(-0.5, _ramp(RATE), RATE)  # 1 s of sound that began half a second before t = 0
    w.close()
    x = _read(tmp_path / "a.wav")
    assert len(x) == RATE // 2 and w.trimmed == RATE // 2
    np.testing.assert_allclose(x, _ramp(RATE)[RATE // 2:], atol=1 / 32767)


def test_a_flushed_track_is_a_whole_wav_before_it_is_closed(tmp_path):
    w = AudioTrackWriter(tmp_path / "a.wav", RATE)
    w.write(0.0, _ramp(RATE), RATE)
    w.flush()
    shutil.copy(tmp_path / "a.wav", tmp_path / "killed.wav")  # the process dies now
    w.close()
    np.testing.assert_allclose(_read(tmp_path / "killed.wav"), _ramp(RATE), atol=1 / 32767)
    sig = FileAudioSignals(tmp_path / "killed.wav")  # what a rehearsal reads it with
    try:
        assert sig.sample_rate == RATE and sig.values_at(0.5).rms > 0.1
    finally:
        sig.close()


def _face(t: float, i: int) -> FaceObservation:
    return FaceObservation(t, i, True, {n: 0.25 for n in FEATURE_NAMES}, np.zeros((478, 3), np.float32),
                           np.zeros((64, 64, 3), np.uint8))


def _tone_blocks(t0: float, seconds: float, burst_at: float):
    """(t, block) from t0 for `seconds`: silence with a 0.1 s burst at absolute time burst_at."""
    for k in range(int(seconds * RATE) // BLOCK):
        t = t0 + k * BLOCK / RATE
        s = t + np.arange(BLOCK) / RATE
        yield t, np.where((s >= burst_at) & (s < burst_at + 0.1), 0.8, 0.0).astype(np.float32)


def test_the_recorder_puts_the_sound_on_the_session_clock(tmp_path):
    d = tmp_path / "s"
    rec = SessionRecorder(d, fps=30.0, record_audio=True)
    blocks = list(_tone_blocks(99.0, 4.0, burst_at=101.5))
    early = [b for b in blocks if b[0] < 100.0]
    for t, b in early:  # the sound card starts before the camera: nothing says where t = 0 is yet
        rec.add_audio(t, b, RATE)
    rec.add_face(_face(100.0, 0))  # the first face: the session's origin
    rec.add_event(ControlEvent(100.5, "/perform/latent/0", (0.5,), "osc"))
    for t, b in blocks[len(early):]:
        rec.add_audio(t, b, RATE)
    assert rec.close().state == "closed"
    s = load_session(d)
    assert s.manifest.files["audio"] == fmt.AUDIO and s.audio_path == d / fmt.AUDIO
    assert s.manifest.counts["dropped_audio_blocks"] == 0
    x = _read(s.audio_path)
    loud = np.flatnonzero(np.abs(x) > 0.5)
    assert loud[0] == pytest.approx(1.5 * RATE, abs=2) and len(loud) == pytest.approx(0.1 * RATE, abs=2)
    assert len(x) == pytest.approx(3.0 * RATE, abs=BLOCK)  # 100.0 .. 103.0


def test_without_record_audio_no_sound_is_kept(tmp_path):
    rec = SessionRecorder(tmp_path / "s", fps=30.0)
    rec.add_face(_face(0.0, 0))
    rec.add_audio(0.0, np.ones(BLOCK, np.float32), RATE)
    rec.close()
    s = load_session(tmp_path / "s")
    assert "audio" not in s.manifest.files and s.audio_path is None and not (tmp_path / "s" / fmt.AUDIO).exists()


def test_an_unclosed_recording_keeps_its_sound_up_to_the_last_flush(tmp_path):
    d = tmp_path / "live"
    rec = SessionRecorder(d, fps=30.0, origin_s=0.0, record_audio=True)
    rec.add_face(_face(0.0, 0))
    for t, b in _tone_blocks(0.0, 1.0, burst_at=0.5):
        rec.add_audio(t, b, RATE)
    done = threading.Event()
    for _ in range(600):  # until the manifest lists the sound and the file holds the second written
        m = json.loads((d / fmt.MANIFEST).read_text()) if (d / fmt.MANIFEST).exists() else {}
        if "audio" in m.get("files", {}) and (d / fmt.AUDIO).exists():
            try:
                if len(_read(d / fmt.AUDIO)) >= RATE - BLOCK:
                    break
            except (EOFError, wave.Error):
                pass
        done.wait(0.05)
    else:
        pytest.fail("the sound was never flushed")
    copy = tmp_path / "copy"
    shutil.copytree(d, copy)  # the power goes now
    rec.close()
    s = load_session(copy)
    assert not s.manifest.complete and s.audio_path == copy / fmt.AUDIO
    x = _read(s.audio_path)
    assert np.flatnonzero(x > 0.5)[0] == pytest.approx(0.5 * RATE, abs=2)
