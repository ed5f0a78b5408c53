"""tap_live records a real LiveRunner run: the synthetic camera, the real FaceTracker, events and keys, scenes."""

from __future__ import annotations

import threading

import numpy as np

from perform.control.events import ControlEvent
from perform.engine.live_clock import LiveOptions, LiveRunner
from perform.engine.plan import FramePlan
from perform.session import SessionRecorder, load_session, tap_live
from perform.session.video import decode_all
from perform.sources.synthetic import SyntheticSource
from perform.tracking.tracker import FaceTracker


class _Program:
    models: dict = {}

    def step(self, t_s, index, face, events, source_status):
        return FramePlan(index, t_s, (), (), scene="one" if index < 15 else "two")


class _Presenter:
    def __init__(self):
        self.n = 0

    def draw(self, plan, generated, hud_lines):
        self.hud = hud_lines

    def present(self):
        self.n += 1
        return ["x"] if self.n == 5 else []  # a key pressed once

    def close(self):
        pass


class _Control:
    def drain(self, now_s):
        return [ControlEvent(now_s, "/perform/latent/0", (0.25,), "osc")]


def test_tap_live_records_a_live_runner(tmp_path):
    rec = SessionRecorder(tmp_path / "s", fps=30.0, record_video=True, crop_size=64)
    factory, program, on_frame = tap_live(rec, lambda: FaceTracker(crop_size=64), _Program())
    source = SyntheticSource(fps=30.0, size=(320, 240))
    presenter = _Presenter()
    runner = LiveRunner(source, factory, program, presenter, _Control(),
                        LiveOptions(fps=30.0, frames=30, on_frame=on_frame))
    runner.run()
    assert any(line.startswith("REC") for line in presenter.hud)  # the HUD shows the recording
    st = rec.close()
    assert st.state == "closed"
    s = load_session(tmp_path / "s")
    assert len(s.faces) >= 3 and s.faces.present.any()
    assert np.all(np.diff(s.faces.t_s) >= 0) and s.faces.t_s[0] >= -0.5
    addresses = [e.address for e in s.events()]
    assert addresses.count("/perform/latent/0") == 30 and "/perform/key/x" in addresses
    assert [name for _, name in s.scene_changes()] == ["one", "two"]
    assert s.manifest.files.get("camera") == "camera.mp4" and s.manifest.counts["camera_frames"] >= 1


class _CameraAfterTheBlank:
    """A FaceTracker that lets the stalled camera deliver once it has been fed the blank frame (no frame yet)."""

    def __init__(self, stall_file, fed) -> None:
        self._tracker = FaceTracker(crop_size=64)
        self._stall_file = stall_file
        self._fed = fed

    def process(self, frame):
        if frame.index < 0:  # the stand-in the live clock feeds while no frame arrives
            self._stall_file.unlink(missing_ok=True)
            self._fed.set()
        return self._tracker.process(frame)

    def close(self) -> None:
        self._tracker.close()


def test_the_blank_frame_shown_before_the_camera_delivers_does_not_size_camera_mp4(tmp_path):
    """camera.mp4 holds camera frames only, at the camera's size: the blank the tracker is fed before the camera's
    first frame (so the face fades as it should) is not one, and used to open the file at 32x32."""
    stall = tmp_path / "stall"
    stall.write_text("")  # the camera delivers nothing until the tracker has been fed the blank
    fed = threading.Event()
    rec = SessionRecorder(tmp_path / "s", fps=30.0, record_video=True, crop_size=64)
    factory, program, on_frame = tap_live(rec, lambda: _CameraAfterTheBlank(stall, fed), _Program())

    def enough(n, plan, generated):
        on_frame(n, plan, generated)
        if rec.status.camera_frames >= 5:
            runner.state.quit = True

    runner = LiveRunner(SyntheticSource(fps=30.0, size=(320, 240), stall_file=stall), factory, program, _Presenter(),
                        None, LiveOptions(fps=30.0, frames=900, on_frame=enough))
    runner.run()
    rec.close()
    assert fed.is_set() and runner.frames_drawn < 900
    frames, _ = decode_all(tmp_path / "s" / "camera.mp4")
    assert len(frames) >= 5 and frames.shape[1:3] == (240, 320)
