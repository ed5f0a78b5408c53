"""A face that detection loses eases out of the image: no jump on the loss frame, and the no-face image at
the end (shipped face-64 model, real MediaPipe tracking of the synthetic camera, fixed clock)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from perform.engine.face_input import TrackedFaceInput
from perform.sources.frame import Frame
from perform.sources.synthetic import SyntheticSource, background
from perform.tracking.tracker import FaceTracker

pytestmark = pytest.mark.gl

ROOT = Path(__file__).resolve().parents[2]
FPS = 30
LOSS = 15  # the first frame without the face (t = 0.5 s)
FACE_SHOW = f"""
[show]
size = [64, 64]
fps = {FPS}
[[scene]]
name = "face"
model = "{ROOT}/models/face-64"
drive = "face"
duration = "hold"
[[scene.shader]]
type = "display"
params = {{ filter = "nearest", fit = "stretch" }}
"""


class _FaceLeaves:
    """The synthetic camera until `t_leave_s`, then the empty room: real frames on which detection fails
    (the camera itself is fine, so no drift starts)."""

    def __init__(self, t_leave_s: float) -> None:
        self.camera = SyntheticSource(fps=FPS, size=(320, 240))
        self.room = background(self.camera.size, 0)
        self.t_leave_s = t_leave_s
        self.status = "ok"

    def frame_at(self, t_s: float, index: int) -> Frame:
        return self.camera.frame_at(t_s, index) if t_s < self.t_leave_s else Frame(self.room.copy(), t_s, index)

    def close(self) -> None:
        self.camera.close()


def _render(render, path: Path, t_leave_s: float, frames: int):
    face = TrackedFaceInput(_FaceLeaves(t_leave_s), FaceTracker(crop_size=64))
    try:
        return [(px.astype(float), plan) for px, plan in render(path, frames, face=face)]
    finally:
        face.close()


def test_a_lost_face_eases_out_without_a_jump_and_ends_on_the_no_face_image(tmp_path, render):
    path = tmp_path / "face.toml"
    path.write_text(FACE_SHOW)
    frames = _render(render, path, LOSS / FPS, 52)
    mix = [plan.jobs[0].mix for _, plan in frames]
    assert mix[LOSS - 1] > 0.99, "the face is fully in before it leaves"
    assert mix[-1] == 0.0 and frames[-1][1].jobs[0].crop is None  # presence has faded to 0: the crop is let go
    steps = np.array([np.abs(b[0] - a[0]).mean() for a, b in zip(frames, frames[1:])])  # steps[n]: frame n -> n+1
    easing = [steps[n - 1] for n in range(LOSS, len(frames)) if 0.05 < mix[n] < 0.95]
    typical = float(np.median(easing))
    # no jump anywhere on the way out, least of all on the frame the face is lost
    assert steps[LOSS - 1] <= 3 * typical, f"the loss frame jumps {steps[LOSS - 1]:.2f} (typical step {typical:.2f})"
    assert steps[LOSS - 1:].max() <= 3 * typical, steps[LOSS - 1:].round(2)
    assert len(easing) > 15 and typical > 0.1  # the image does move on the way out

    no_face = _render(render, path, 0.0, 52)  # the same show with no face ever seen
    assert all(plan.jobs[0].mix == 0.0 for _, plan in no_face)
    gap = np.abs(frames[LOSS - 1][0] - no_face[LOSS - 1][0]).mean()  # what the face changed
    assert gap > 5.0
    assert np.abs(frames[-1][0] - no_face[-1][0]).mean() < 0.05 * gap  # and at the end it has let go

    again = _render(render, path, LOSS / FPS, 52)  # the fixed clock: the same frames, bit for bit
    digest = lambda fr: [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in fr]
    assert digest(again) == digest(frames)
