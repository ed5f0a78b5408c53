"""FaceTracker through real MediaPipe: observation contents, presence decay and return without jumps."""

import numpy as np
import pytest

from perform.sources.frame import Frame
from perform.tracking.observation import FEATURE_NAMES
from perform.tracking.tracker import FaceTracker


@pytest.fixture()
def tracker():
    t = FaceTracker(crop_size=64)
    yield t
    t.close()


def _run(tracker, images, t0, fps=30.0):
    out = []
    for i, img in enumerate(images):
        out.append(tracker.process(Frame(img, t0 + i / fps, int(t0 * fps) + i)))
    return out


def test_observation_has_crop_landmarks_and_all_features(tracker, photo):
    obs = _run(tracker, [photo] * 12, 0.0)
    last = obs[-1]
    assert last.present and last.landmarks.shape == (478, 3)
    assert last.crop.shape == (64, 64, 3) and last.crop.dtype == np.uint8
    assert tuple(last.features) == FEATURE_NAMES
    assert last.features["presence"] > 0.99  # ramped up within 0.3 s of first sight
    assert obs[0].features["presence"] < 0.5  # ... not at once
    assert last.track_ms > 0


def test_presence_decays_and_returns_without_jumps(tracker, photo):
    blank = np.full_like(photo, 40)
    seen = _run(tracker, [photo] * 15, 0.0)
    gone = _run(tracker, [blank] * 45, 0.5)
    back = _run(tracker, [photo] * 20, 2.0)
    obs = seen + gone + back
    presence = np.array([o.features["presence"] for o in obs])
    values = np.array([[o.features[n] for n in FEATURE_NAMES if n != "presence"] for o in obs])
    g = presence[15:60]
    assert not any(o.present for o in gone)
    assert np.all(np.diff(g) <= 1e-9)  # falls monotonically ...
    assert g[0] > 0.9 and g[-1] == 0.0  # ... to 0 within the 1.5 s away
    assert g[int(0.5 * 30)] > 0.3  # ... and not at once
    steps = np.abs(np.diff(values[14:], axis=0))  # from the last seen frame, through the loss and the return
    assert steps.max() < 0.12, steps.max()
    assert np.abs(np.diff(presence[14:])).max() < 0.2  # a smoothstep over reacquire_s (0.3 s), not a step
    # away for long, features eased to neutral; back, they reach the tracked values again
    assert abs(gone[-1].features["face_x"] - 0.5) < 0.03
    assert abs(back[-1].features["face_x"] - seen[-1].features["face_x"]) < 0.02
    assert back[-1].features["presence"] > 0.99


def test_one_missed_frame_is_held(tracker, photo):
    blank = np.zeros_like(photo)
    obs = _run(tracker, [photo] * 10 + [blank] + [photo] * 3, 0.0)
    assert not obs[10].present
    assert obs[10].features == obs[9].features  # held, not eased, for a short gap


def test_unusual_timestamps_do_not_break_it(tracker, photo):
    a = tracker.process(Frame(photo, 5.0, 0))
    b = tracker.process(Frame(photo, 5.0, 1))  # repeated timestamp
    c = tracker.process(Frame(photo, 4.0, 2))  # going backwards
    for o in (a, b, c):
        assert all(np.isfinite(v) for v in o.features.values())
