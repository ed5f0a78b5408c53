"""`perform rehearse --audio`: the audio.* mappings hear the file that is muxed in, frame by frame, deterministically."""

from __future__ import annotations

import av
import numpy as np
import pytest

from perform.engine.rehearsal import RehearseConfig, run_rehearse
from perform.session import SessionRecorder
from perform.tracking.observation import FaceObservation
from tests.audio.conftest import RATE, click_track, sweep, write_wav

SHOW = """
[show]
size = [64, 48]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1]
duration = 1.0
[[scene.mapping]]
source = "audio.onset"
target = "latent.0"
out = [0.0, 3.0]
[[scene.mapping]]
source = "audio.band.low"
target = "latent.1"
out = [0.0, 3.0]
"""


@pytest.mark.gl
def test_the_same_audio_renders_the_same_frames_and_other_audio_other_frames(setlist_file, tmp_path):
    path = str(setlist_file(SHOW))
    clicks = write_wav(tmp_path / "clicks.wav", click_track(120.0, 2.0)[0])
    other = write_wav(tmp_path / "sweep.wav", sweep(40.0, 400.0, 2.0))
    runs = {}
    for name, audio in (("a", clicks), ("b", clicks), ("c", other)):
        hashes = tmp_path / f"{name}.txt"
        assert run_rehearse(RehearseConfig(setlist=path, synthetic=True, device="cpu", hashes=str(hashes),
                                           audio=str(audio), inference="thread",
                                           progress=False)) == 0
        runs[name] = hashes.read_text().split()
    a = runs["a"]
    assert len(a) == 30
    assert a == runs["b"]  # the same audio: the same frames, bit for bit
    assert a != runs["c"]
    # nothing else moves this scene: the image holds until the frame that hears the first click (0.25 s: frame 8)
    assert len(set(a[:8])) == 1 and a[8] != a[7]


@pytest.mark.gl
def test_a_session_recorded_with_sound_rehearses_hearing_it_and_carries_it_into_the_video(setlist_file, tmp_path):
    path = str(setlist_file(SHOW))
    take = tmp_path / "take"
    rec = SessionRecorder(take, fps=30.0, origin_s=0.0, record_audio=True)
    clicks, _ = click_track(120.0, 1.0)  # the first click at 0.25 s
    for i in range(30):
        rec.add_face(FaceObservation.absent(i / 30.0, i))
    for k in range(0, len(clicks) - 255, 256):  # the sound card's blocks, stamped with their first sample
        rec.add_audio(k / RATE, clicks[k:k + 256].astype(np.float32), RATE)
    assert rec.close().state == "closed"

    out, hashes = tmp_path / "take.mp4", tmp_path / "take.txt"
    assert run_rehearse(RehearseConfig(setlist=path, session=str(take), device="cpu", out=str(out),
                                       hashes=str(hashes), inference="thread", progress=False)) == 0
    a = hashes.read_text().split()
    assert len(a) == 30 and len(set(a[:8])) == 1 and a[8] != a[7]  # the click heard at frame 8, as from a file
    with av.open(str(out)) as c:
        assert c.streams.audio and c.streams.audio[0].duration * c.streams.audio[0].time_base == pytest.approx(1.0, abs=0.05)

    silent = write_wav(tmp_path / "silence.wav", np.zeros(RATE))  # --audio is heard instead of the session's
    assert run_rehearse(RehearseConfig(setlist=path, session=str(take), device="cpu", hashes=str(hashes),
                                       audio=str(silent), inference="thread", progress=False)) == 0
    assert len(set(hashes.read_text().split())) == 1
