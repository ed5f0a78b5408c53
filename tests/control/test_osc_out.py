"""OSCSender: face features as one bundle a frame, state changes, and never raising on a dead target."""

import socket

import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from perform.control.osc_out import OSCSender
from perform.tracking.observation import FEATURE_NAMES


@pytest.fixture
def rx():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3.0)
    yield s
    s.close()


def test_face_features_arrive_in_one_bundle(rx):
    feats = {n: 0.1 * i for i, n in enumerate(FEATURE_NAMES)}
    with OSCSender([rx.getsockname()]) as out:
        out.send_face(feats, present=True)
    data = rx.recvfrom(65536)[0]
    assert OscBundle.dgram_is_bundle(data)
    got = {m.address: m.params[0] for m in OscBundle(data)}
    assert got["/perform/face/present"] == 1
    for n in FEATURE_NAMES:
        assert got[f"/perform/face/{n}"] == pytest.approx(feats[n], abs=1e-6)


def test_scene_on_change_and_fps_once_a_second(rx):
    with OSCSender([rx.getsockname()]) as out:
        assert out.send_scene(1, "chorus")
        assert not out.send_scene(1, "chorus")
        assert out.send_fps(10.0, 59.9)
        assert not out.send_fps(10.5, 60.0)
        assert out.send_fps(11.0, 60.0)
    msgs = [OscMessage(rx.recvfrom(65536)[0]) for _ in range(3)]
    assert [(m.address, m.params) for m in msgs][0] == ("/perform/state/scene", [1, "chorus"])
    assert [m.address for m in msgs[1:]] == ["/perform/state/fps"] * 2


def test_unreachable_targets_never_raise():
    out = OSCSender([("127.0.0.1", 9), ("256.1.1.1", 9000)])  # nothing listens on 9; a host that cannot exist
    for _ in range(5):
        out.send_face({}, present=False)
    assert out.counters.dropped("send_failed") >= 5
    out.close()
    out.send("/perform/state/fps", 1.0)  # after close: silently nothing
