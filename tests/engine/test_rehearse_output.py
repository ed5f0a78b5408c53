"""`perform rehearse --out`: the video is the frames the fixed clock drew, all of them, whoever encodes them."""

from __future__ import annotations

import av
import pytest

from perform.engine.rehearsal import RehearseConfig, run_rehearse

SHOW = """
[show]
size = [64, 48]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1, 2]
keyframe_every = 0.3
duration = 0.7
mapping = []
[[scene.shader]]
type = "feedback"
params = { decay = 0.8 }
[[scene]]
name = "b"
seeds = [3]
duration = 0.6
transition = { kind = "crossfade", seconds = 0.3 }
mapping = []
"""


@pytest.mark.gl
def test_writing_a_video_on_the_writer_thread_changes_no_frame_and_drops_none(setlist_file, tmp_path):
    path = str(setlist_file(SHOW))
    plain, written = tmp_path / "plain.txt", tmp_path / "written.txt"
    out = tmp_path / "show.mp4"
    assert run_rehearse(RehearseConfig(setlist=path, synthetic=True, device="cpu", hashes=str(plain),
                                       inference="thread", progress=False)) == 0
    # the child process a frame ahead, the writer thread converting and encoding behind: the same frames
    assert run_rehearse(RehearseConfig(setlist=path, synthetic=True, device="cpu", hashes=str(written), out=str(out),
                                       inference="process", progress=False)) == 0
    hashes = plain.read_text().split()
    assert len(hashes) == 39 and len(set(hashes)) > 10  # 1.3 s at 30 fps, moving
    assert written.read_text().split() == hashes
    with av.open(str(out)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 39 and (frames[0].width, frames[0].height) == (64, 48)
    assert [round(float(f.time) * 30) for f in frames] == list(range(39))


@pytest.mark.gl
@pytest.mark.parametrize("fault", ["SIGKILL", "SIGSTOP"], ids=["killed", "frozen"])
def test_a_child_that_dies_or_freezes_mid_render_is_restarted_and_the_frames_are_the_same(
        setlist_file, tmp_path, monkeypatch, fault):
    """The model's process really killed (or stopped: the watchdog kills it after stall_s) at frame 12 with
    frames in flight: restarted, those frames generated again, and every frame as an inline render draws it."""
    import os
    import signal

    from perform.engine import rehearsal
    from perform.engine.inference_process import InferenceProcess

    made = []

    class FaultAtFrame12(InferenceProcess):
        def collect(self, plan):
            if plan.index == 12 and self.restarts == 0:
                os.kill(self.pid, getattr(signal, fault))
            return super().collect(plan)

    def make(*a, **k):
        made.append(FaultAtFrame12(*a, **k))
        return made[-1]

    monkeypatch.setattr(rehearsal, "InferenceProcess", make)
    path = str(setlist_file(SHOW))
    plain, faulted = tmp_path / "plain.txt", tmp_path / "faulted.txt"
    assert run_rehearse(RehearseConfig(setlist=path, synthetic=True, device="cpu", hashes=str(plain),
                                       inference="thread", progress=False)) == 0
    assert run_rehearse(RehearseConfig(setlist=path, synthetic=True, device="cpu", hashes=str(faulted),
                                       inference="process", stall_s=0.5, progress=False)) == 0
    assert [p.restarts for p in made] == [1]
    assert faulted.read_text().split() == plain.read_text().split()
