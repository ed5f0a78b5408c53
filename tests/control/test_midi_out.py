"""MIDI out: face features as CCs (changed values only), scene changes as program changes and notes, sent on
a thread of its own; a blocked or vanished device never holds up the caller and is opened again."""

from __future__ import annotations

import threading

import pytest

from perform.control.midi_out import FIRST_CC, MidiSender, feature_ccs
from perform.errors import PerformError
from perform.tracking.observation import FEATURE_NAMES

from _midi_fakes import FakePorts, ListPort

DESK = "grandMA3 MIDI 1"


def kinds(sent):
    return [(m.type, getattr(m, "control", getattr(m, "program", getattr(m, "note", None))),
             getattr(m, "value", None)) for m in sent]


def test_features_go_out_as_ccs_and_scenes_as_program_changes_and_notes():
    ports = FakePorts(outputs=[DESK])
    out = MidiSender("grandma", ports=ports, channel=3, rate_hz=1000)
    try:
        port = ports.latest(DESK)
        out.send_face({"yaw": 1.0, "mouth_open": 0.5, "presence": 1.0}, True)
        assert port.wait_for(lambda sent: len(sent) >= len(FEATURE_NAMES))
        ccs = {m.control: m.value for m in port.sent}
        assert ccs[FIRST_CC + FEATURE_NAMES.index("yaw")] == 127
        assert ccs[FIRST_CC + FEATURE_NAMES.index("mouth_open")] == 64
        assert ccs[FIRST_CC + FEATURE_NAMES.index("pitch")] == 0  # missing: the bottom of its range
        assert {m.channel for m in port.sent} == {2}
        n = len(port.sent)
        out.send_face({"yaw": 1.0, "mouth_open": 0.9, "presence": 1.0}, True)  # one value changed: one CC
        out.send_scene(2)
        out.send_scene(2)  # the same scene again: nothing
        assert port.wait_for(lambda sent: len(sent) >= n + 4)
        new = kinds(port.sent[n:])
        assert ("control_change", FIRST_CC + FEATURE_NAMES.index("mouth_open"), 114) in new
        assert [k for k in new if k[0] != "control_change"] == [("program_change", 2, None), ("note_on", 38, None),
                                                                ("note_off", 38, None)]
    finally:
        out.close()


class BlockedPort(ListPort):
    """A device whose driver blocks in send() (a full buffer, a hung USB endpoint)."""

    def __init__(self, name):
        super().__init__(name)
        self.release = threading.Event()

    def _send(self, msg):
        self.release.wait(30)
        super()._send(msg)


def test_a_blocked_device_never_holds_up_the_render_loop():
    ports = FakePorts(outputs=[DESK])
    blocked = BlockedPort(DESK)
    ports.open_output = lambda name: ports._opened(name, blocked)
    out = MidiSender(DESK, ports=ports, rate_hz=1000)
    calls = threading.Thread(target=lambda: [(out.send_face({"yaw": i / 1000}, True), out.send_scene(i % 3))
                                             for i in range(2000)])
    calls.start()
    calls.join(10)  # a hang guard, not a timing: the calls never wait on the device
    assert not calls.is_alive()
    blocked.release.set()
    out.close()


def test_a_vanished_output_is_opened_again_and_sends_everything_again():
    ports = FakePorts(outputs=[DESK])
    out = MidiSender("grandMA3", ports=ports, rate_hz=1000, backoff_s=(0.01, 0.05))
    try:
        first = ports.latest(DESK)
        out.send_face({"yaw": 1.0}, True)
        assert first.wait_for(lambda sent: len(sent) >= len(FEATURE_NAMES))
        ports.unplug(DESK)
        out.send_face({"yaw": 0.0}, True)  # the send fails: lost
        back = "grandMA3 MIDI 1 (2)"
        ports.plug(back, output=True)
        second = ports.latest(back)
        # the newest values go out again at once, every one of them, not only those that changed
        assert second.wait_for(lambda sent: len(sent) >= len(FEATURE_NAMES))
        assert out.status == "ok" and out.name == back
    finally:
        out.close()


def test_an_unknown_output_lists_the_outputs_there_are():
    with pytest.raises(PerformError) as err:
        MidiSender("launchpad", ports=FakePorts(outputs=[DESK]))
    assert DESK in str(err.value)


def test_feature_ccs_scale_each_feature_by_its_range():
    ccs = feature_ccs({"yaw": -1.0, "roll": 0.0, "face_size": 2.0})
    assert ccs[FIRST_CC + FEATURE_NAMES.index("yaw")] == 0
    assert ccs[FIRST_CC + FEATURE_NAMES.index("roll")] == 64
    assert ccs[FIRST_CC + FEATURE_NAMES.index("face_size")] == 127  # clamped
