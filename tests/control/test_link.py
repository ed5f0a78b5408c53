"""LinkClock against a session with aalink's documented properties (tempo, beat, num_peers, enabled): the
tempo and each beat crossed become /perform/tempo and /perform/beat, back-dated to the crossing. Against the
real aalink too where it is installed (the optional `link` extra)."""

from __future__ import annotations

import pytest

from perform.control.link import LinkClock
from perform.control.state import ControlState


class FakeSession:
    """What aalink's Link exposes, set by the test."""

    def __init__(self) -> None:
        self.tempo, self.beat, self.num_peers, self.enabled, self.quantum = 120.0, 0.0, 1, True, 4.0


def test_tempo_and_beats_of_the_session_become_events_at_the_crossing():
    session = FakeSession()
    now = [10.0]
    clock = LinkClock(ControlState(clock=lambda: now[0]), link=session, clock=lambda: now[0], poll_s=3600)
    try:
        clock.start(97.0)  # a peer is there: its tempo is the session's
        assert [(e.address, e.args) for e in clock.poll()] == [("/perform/tempo", (120.0,))]
        session.beat, now[0] = 0.9, 10.45
        assert clock.poll() == []
        session.beat, now[0] = 1.1, 10.55  # crossed beat 1 a fifth of a beat ago: at 10.5 s
        (beat,) = clock.poll()
        assert beat.address == "/perform/beat" and beat.args == (1,) and beat.t_s == pytest.approx(10.5)
        session.tempo, session.beat, now[0] = 90.0, 1.5, 10.8
        assert [(e.address, e.args) for e in clock.poll()] == [("/perform/tempo", (90.0,))]
        assert "1 peer(s), 90.0 BPM" in clock.hud_lines()[0]
    finally:
        clock.close()
    assert session.enabled is False


def test_alone_in_the_session_the_show_proposes_its_own_tempo():
    session = FakeSession()
    session.num_peers = 0
    clock = LinkClock(ControlState(), link=session, poll_s=3600)
    try:
        clock.start(97.0)
        assert session.tempo == 97.0
        assert [(e.address, e.args) for e in clock.poll()] == [("/perform/tempo", (97.0,))]
    finally:
        clock.close()


def test_the_real_aalink_session_gives_a_tempo_where_it_is_installed():
    pytest.importorskip("aalink", reason="the optional `link` extra (aalink) is not installed")
    state = ControlState()
    clock = LinkClock(state)
    clock.start(100.0)  # alone (no other Link peer on a test machine): the show's tempo becomes the session's
    try:
        events = []
        while not any(e.address == "/perform/beat" for e in events):  # 100 BPM: a beat within 0.6 s
            events += state.drain(state.now() + 1.0)
        assert [e.args[0] for e in events if e.address == "/perform/tempo"][0] == pytest.approx(100.0)
    finally:
        clock.close()
