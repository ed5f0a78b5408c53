"""The shipped demo session loads and replays; the script that makes it runs the real tracker and OSC table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from perform.session import load_session
from perform.session.demo import demo_script, make_demo_session, script_events

SHIPPED = Path(__file__).resolve().parents[2] / "setlists" / "sessions" / "demo"


@pytest.fixture(scope="module")
def shipped():
    return load_session(SHIPPED)


def test_shipped_demo_session_loads_and_is_small(shipped):
    m = shipped.manifest
    assert (m.fps, m.frames, m.crop_size, m.duration_s) == (30.0, 600, 64, 20.0)
    assert shipped.frame_count == 600
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 2_000_000
    f = shipped.faces
    assert f.crops.shape == (600, 64, 64, 3)
    # the face is there most of the time and leaves the frame once (the synthetic camera's exit)
    assert 0.8 < f.present.mean() < 0.98
    gone = np.flatnonzero(~f.present)
    assert gone.size and np.all(np.diff(gone) == 1)
    assert f.crops[gone].max() < 16 and f.crops[f.present].mean() > 60
    # features move: the head turns and rolls
    roll = f.features[:, f.feature_names.index("roll")]
    assert roll.max() - roll.min() > 0.3


def test_shipped_demo_events_cover_the_script(shipped):
    events = shipped.events()
    addresses = [e.address for e in events]
    assert addresses.count("/perform/scene/next") == 3
    assert sum(a.startswith("/perform/latent/") for a in addresses) > 30
    assert sum(a == "/perform/shader/kaleido/spin" for a in addresses) > 30
    assert sum(a == "/perform/direction/pc0" for a in addresses) > 10
    assert all(e.origin == "replay" for e in events)
    assert [e.t_s for e in events] == sorted(e.t_s for e in events)
    # what the script says is what the session holds, argument types included
    scripted = script_events(demo_script())
    assert [(e.t_s, e.address, e.args) for e in events] == [(e.t_s, e.address, e.args) for e in scripted]


def test_shipped_demo_replays_frame_by_frame(shipped):
    fi = shipped.face_input(crop_size=32)
    seen = [fi.face_at(n / 30, n) for n in range(0, 600, 7)]
    assert fi.status == "ok"
    assert [o.frame_index for o in seen] == list(range(0, 600, 7))
    assert all(o.crop.shape == (32, 32, 3) for o in seen if o.present)
    assert fi.face_at(20.0, 600) is None and fi.status == "ended"


def test_demo_script_remakes_the_start_of_the_shipped_session(tmp_path, shipped):
    st = make_demo_session(tmp_path / "demo", seconds=1.0, setlist=None)
    assert st.state == "closed" and st.dropped == 0
    s = load_session(tmp_path / "demo")
    assert len(s.faces) == 30
    np.testing.assert_array_equal(s.faces.present, shipped.faces.present[:30])
    # the same code on the same clock: the same track (a loose bound, MediaPipe builds may differ in ulps)
    np.testing.assert_allclose(s.faces.features, shipped.faces.features[:30], atol=0.02)
    assert [e.address for e in s.events()] == ["/perform/tempo"]
