"""Record -> read round trip through real files: faces, landmarks, H.264 crops, events; frame-exact face_at."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage.data import astronaut

from perform.control.events import ControlEvent
from perform.engine.fixed_clock import EventTimeline
from perform.engine.stages import no_face
from perform.engine.plan import FramePlan
from perform.session import SessionRecorder, load_session, tap_live
from perform.session import format as fmt
from perform.sources.frame import Frame
from perform.tracking.observation import FEATURE_NAMES, FaceObservation

FPS = 30.0
T0 = 1000.0  # a perf_counter-like origin: stored times must come out relative to it


_FACE = astronaut()[20:276, 120:376]  # the face region


def _crop(i: int) -> np.ndarray:
    img = _FACE
    img = np.roll(img, i * 3, axis=1)
    return cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA)


def _observations(n: int, absent: set[int]) -> list[FaceObservation]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = T0 + i / FPS
        if i in absent:
            out.append(FaceObservation.absent(t, i))
            continue
        feats = {name: float(rng.uniform(0, 1)) for name in FEATURE_NAMES}
        lm = rng.uniform(0, 1, (478, 3)).astype(np.float32)
        out.append(FaceObservation(t, i, True, feats, lm, _crop(i)))
    return out


def _events() -> list[ControlEvent]:
    return [
        ControlEvent(T0 + 0.105, "/perform/latent/3", (0.25,), "osc"),
        ControlEvent(T0 + 0.20, "/perform/shader/feedback/amount", (0.1 + 0.2,), "osc"),
        ControlEvent(T0 + 0.20, "/perform/key/right", (), "key"),
        ControlEvent(T0 + 0.31, "/perform/scene/go", ("intro", 2, True), "osc"),
    ]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec") / "session"
    obs = _observations(24, absent={5, 6, 17})
    evs = _events()
    rec = SessionRecorder(d, fps=FPS, setlist="setlists/demo.toml", model="models/face.safetensors",
                          source="synthetic", record_video=True, crop_size=64, origin_s=T0,
                          video_queue_size=64)  # the test feeds faster than a camera
    for i, o in enumerate(obs):
        rec.add_frame(Frame(np.full((48, 64, 3), i * 10, np.uint8), o.t_capture_s, i))
        rec.add_face(o)
        for e in evs:
            if o.t_capture_s <= e.t_s < o.t_capture_s + 1 / FPS:
                rec.add_event(e)
        scene = "intro" if i < 12 else "storm"
        rec(i, FramePlan(i, o.t_capture_s, (), (), scene=scene), None)
    status = rec.close()
    return d, obs, evs, status


def test_round_trip_keeps_every_row_and_event(recorded):
    d, obs, evs, status = recorded
    assert status.state == "closed" and status.dropped == 0
    s = load_session(d)
    m = s.manifest
    assert (m.format, m.format_version, m.fps, m.frames, m.crop_size) == (fmt.FORMAT, 1, FPS, 24, 64)
    assert (m.setlist, m.model, m.source) == ("setlists/demo.toml", "models/face.safetensors", "synthetic")
    assert m.duration_s == pytest.approx(24 / FPS)
    assert s.frame_count == 24
    assert set(m.files) == {"faces", "crops", "events", "camera"}
    f = s.faces
    np.testing.assert_allclose(f.t_s, [o.t_capture_s - T0 for o in obs])
    np.testing.assert_array_equal(f.frame_index, np.arange(24))
    np.testing.assert_array_equal(f.present, [o.present for o in obs])
    assert f.feature_names == FEATURE_NAMES
    for i, o in enumerate(obs):
        np.testing.assert_array_equal(f.features[i], np.float32([o.features[n] for n in FEATURE_NAMES]))
        if o.present:
            np.testing.assert_allclose(f.landmarks[i].astype(np.float32), o.landmarks, atol=5e-4)  # float16
            err = np.abs(f.crops[i].astype(int) - o.crop.astype(int))
            assert err.mean() < 4.0, (i, err.mean())
        else:
            assert np.isnan(f.landmarks[i]).all()
            assert f.crops[i].max() < 16  # black where absent (H.264 ringing aside)


def test_events_come_back_exactly_with_scene_records_apart(recorded):
    d, _, evs, _ = recorded
    s = load_session(d)
    expected = [ControlEvent(e.t_s - T0, e.address, e.args, e.origin) for e in evs]
    recorded_controls = [e for e in s.recorded_events if e.origin != fmt.SCENE_ORIGIN]
    assert recorded_controls == expected
    assert [type(a) for a in recorded_controls[3].args] == [str, int, bool]
    replay = s.events()
    assert [e.origin for e in replay] == ["replay"] * 4
    assert [(e.t_s, e.address, e.args) for e in replay] == [(e.t_s, e.address, e.args) for e in expected]
    assert s.scene_changes() == [(0.0, "intro"), (pytest.approx(12 / FPS), "storm")]
    # the fixed clock's timeline hands them out by frame time, none twice
    tl = EventTimeline(replay)
    fired = [tl.drain(n / FPS) for n in range(24)]
    assert sum(len(x) for x in fired) == 4
    assert [e.address for e in fired[4]] == ["/perform/latent/3"]  # 0.105 s: the first frame at or after it


def test_face_at_is_frame_exact(recorded):
    d, obs, _, _ = recorded
    s = load_session(d)
    fi = s.face_input()
    for n in range(24):
        face = fi.face_at(n / FPS, n)
        assert fi.status == "ok"
        assert face.frame_index == n and face.present == obs[n].present
        if face.present:
            assert face.features == pytest.approx(dict(obs[n].features))
            assert face.crop.shape == (64, 64, 3) and face.landmarks.dtype == np.float32
        # just before the next row's time, still this row; never an interpolated one
        if n < 23:
            assert fi.face_at((n + 1) / FPS - 1e-5, n).frame_index == n
    assert fi.face_at(-0.01, 0) is None and fi.status == "waiting"
    assert fi.face_at(24 / FPS, 24) is None and fi.status == "ended"
    # deterministic: the same call twice gives the same data
    a, b = fi.face_at(0.5, 15), fi.face_at(0.5, 15)
    np.testing.assert_array_equal(a.crop, b.crop)
    small = s.face_input(crop_size=32).face_at(0.0, 0)
    assert small.crop.shape == (32, 32, 3)


def test_camera_video_is_written_with_its_times(recorded):
    from perform.session.video import decode_all

    d, _, _, _ = recorded
    frames, times = decode_all(d / fmt.CAMERA)
    assert frames.shape == (24, 48, 64, 3)
    np.testing.assert_allclose(times, np.round(np.arange(24) / FPS, 3), atol=1e-3)
    assert abs(int(frames[10].mean()) - 100) <= 2


def test_manifest_is_plain_json_with_counts(recorded):
    d, _, _, _ = recorded
    data = json.loads((d / fmt.MANIFEST).read_text())
    assert data["format"] == "perform-session" and data["counts"]["faces"] == 24
    assert data["counts"]["events"] == 4 and data["counts"]["scenes"] == 2
    assert not list(d.glob("*.partial")) and not list(d.glob("*.tmp"))


def test_taps_record_a_live_style_run(tmp_path):
    class Tracker:
        def process(self, frame):
            if frame.index < 0:  # the blank the live clock feeds while no frame comes
                return FaceObservation.absent(frame.t_capture_s, -1)
            return FaceObservation(frame.t_capture_s, frame.index, True, {"yaw": 0.5}, None, _crop(0))

        def close(self):
            self.closed = True

    class Program:
        models = {"m": None}

        def step(self, t_s, index, face, events, status):
            return FramePlan(index, t_s, (), (), scene="a" if index < 2 else "b")

    rec = SessionRecorder(tmp_path / "s", fps=FPS)
    factory, program, hook = tap_live(rec, Tracker, Program())
    tracker = factory()
    assert program.models == {"m": None}
    for n in range(4):
        t = 50.0 + n / FPS
        tracker.process(Frame(np.zeros((8, 8, 3), np.uint8), t, n))
        plan = program.step(t, n, None, [ControlEvent(t, "/perform/key/x", (), "key")], "ok")
        hook(n, plan, None)
    no_face(tracker, 50.0 + 4 / FPS)  # no frame came: the face is recorded as gone
    assert program.hud_lines()[-1].startswith("REC")
    assert rec.close().state == "closed"
    s = load_session(tmp_path / "s")
    assert len(s.faces) == 5 and list(s.faces.present) == [True] * 4 + [False]
    assert s.faces.features[0][FEATURE_NAMES.index("yaw")] == 0.5
    assert np.isnan(s.faces.features[0][FEATURE_NAMES.index("pitch")])  # not given: NaN, not invented
    assert len(s.events()) == 4 and s.events()[0].t_s == 0.0
    assert [name for _, name in s.scene_changes()] == ["a", "b"]
