"""OSCServer over real UDP on 127.0.0.1, sent with python-osc's SimpleUDPClient."""

import socket
import time

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from perform.control.osc_routes import Router
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.fixture
def rig():
    clock = FakeClock()
    state = ControlState(clock=clock)
    server = OSCServer(state, port=0, router=Router(latent_dim=16)).start()
    client = SimpleUDPClient("127.0.0.1", server.port)
    yield clock, state, server, client
    server.close()
    assert not server.alive


def wait_for(pred, timeout_s=3.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return False


def drain_until(state, now, pred):
    events = []
    wait_for(lambda: (events.extend(state.drain(now)) or pred(events)))
    return events


def test_latent_message_changes_the_held_latent(rig):
    clock, state, server, client = rig
    client.send_message("/perform/latent/3", 0.8)
    events = drain_until(state, clock.t, lambda ev: ev)
    assert [(e.address, e.origin) for e in events] == [("/perform/latent/3", "osc")]
    assert state.overrides["latent.3"] == pytest.approx(0.8)


def test_bundle_one_second_ahead_waits_for_our_clock(rig):
    clock, state, server, client = rig
    b = OscBundleBuilder(time.time() + 1.0)
    m = OscMessageBuilder("/perform/in/fader1")
    m.add_arg(0.25)
    b.add_content(m.build())
    client.send(b.build())
    assert wait_for(lambda: state.pending() == 1)
    assert state.drain(clock.t + 0.5) == []
    assert "fader1" not in state.inputs
    events = state.drain(clock.t + 1.2)
    assert [e.address for e in events] == ["/perform/in/fader1"]
    assert state.inputs["fader1"] == pytest.approx(0.25)


def test_bundle_too_far_ahead_is_dropped(rig):
    clock, state, server, client = rig
    b = OscBundleBuilder(time.time() + 60.0)
    m = OscMessageBuilder("/perform/scene/next")
    b.add_content(m.build())
    client.send(b.build())
    assert wait_for(lambda: state.counters.dropped("too_far_ahead") == 1)
    assert state.pending() == 0


def test_scene_next_produces_a_scene_event_and_an_ok_reply(rig):
    clock, state, server, client = rig
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3.0)
    client._sock = rx  # send from a bound port so the reply comes back to us
    client.send_message("/perform/scene/next", [])
    events = drain_until(state, clock.t, lambda ev: ev)
    assert [e.address for e in events] == ["/perform/scene/next"]
    reply = OscMessage(rx.recvfrom(65536)[0])
    assert (reply.address, reply.params) == ("/perform/reply/perform/scene/next", ["ok"])
    # the engine answers a command it could not apply
    server.reply(events[0], ok=False, reason="no next scene")
    reply = OscMessage(rx.recvfrom(65536)[0])
    assert reply.params == ["error", "no next scene"]
    client.send_message("/perform/tempo", 900.0)
    reply = OscMessage(rx.recvfrom(65536)[0])
    assert reply.address == "/perform/reply/perform/tempo" and reply.params[0] == "error"
    assert "out_of_range" in reply.params[1]
    rx.close()


def test_wildcard_reaches_every_matching_input(rig):
    clock, state, server, client = rig
    server.router.declare(inputs=["fader1", "fader2", "fader3", "knob1"])
    client.send_message("/perform/in/fader*", 0.5)
    drain_until(state, clock.t, lambda ev: len(ev) == 3)
    assert dict(state.inputs) == {"fader1": 0.5, "fader2": 0.5, "fader3": 0.5}


def test_bad_packets_are_counted_dropped_and_the_thread_survives(rig):
    clock, state, server, client = rig
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad = [b"", b"garbage", b"/perform/mix\x00\x00\x00\x00,i\x00\x00\x00", b"/perform/mix", b"#bundle\x00\x00\x00",
           b"#bundle\x00" + b"\x00" * 8 + b"\x7f\xff\xff\xff", bytes(range(256)) * 4]
    for b in bad:
        raw.sendto(b, ("127.0.0.1", server.port))
    client.send_message("/perform/nowhere", 1.0)
    client.send_message("/perform/mix", "loud")
    client.send_message("/perform/mix", 7.0)
    client.send_message("/perform/latent/99", 0.5)
    client.send_message("/perform/mix", 0.5)  # a good one after all that
    drain_until(state, clock.t, lambda ev: ev)
    c = state.counters
    assert wait_for(lambda: c.get("received") == len(bad) + 5)
    assert c.dropped("malformed") == len(bad)
    assert c.dropped("unknown_address") == 1
    assert c.dropped("wrong_type") == 1
    assert c.dropped("out_of_range") == 2
    assert state.overrides == {"mix": 0.5}
    assert server.alive
    raw.close()


def test_allow_list_refuses_other_senders():
    state = ControlState()
    with OSCServer(state, port=0, allow=["10.0.0.0/8"]) as server:
        SimpleUDPClient("127.0.0.1", server.port).send_message("/perform/mix", 0.5)
        assert wait_for(lambda: state.counters.dropped("not_allowed") == 1)
        assert state.pending() == 0
