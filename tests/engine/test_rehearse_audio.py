"""`perform rehearse --audio`: the audio.* mappings hear the file that is muxed in, frame by frame, deterministically."""

from __future__ import annotations

import pytest

from perform.engine.rehearsal import RehearseConfig, run_rehearse
from tests.audio.conftest import click_track, sweep, write_wav

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
