"""The OSC codec on raw bytes, no socket: messages, nested bundles, timetags on the engine's clock, junk."""

import struct

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import osc_types

from perform.control.osc_codec import MalformedPacket, OscPacketMessage, decode_datagram, encode_message, parse_datagram

WALL = 1_800_000_000.0  # a wall clock reading at arrival
NOW = 50.0              # the engine's clock at the same moment


def bundle(timetag, *elements: bytes) -> bytes:
    """A bundle's bytes by hand: '#bundle', the timetag, then each element's size and bytes."""
    out = b"#bundle\x00" + osc_types.write_date(timetag)
    for e in elements:
        out += struct.pack(">i", len(e)) + e
    return out


def test_a_message_is_due_on_arrival_with_its_arguments():
    data = encode_message("/perform/in/fader1", (0.25, 3, True, "x"))
    assert decode_datagram(data, NOW, WALL) == [OscPacketMessage(NOW, "/perform/in/fader1", (0.25, 3, True, "x"))]


def test_parse_datagram_flattens_nested_bundles_with_their_timetags():
    inner = OscBundleBuilder(2_000_000_000.0)  # python-osc's own builder: the codec reads what it writes
    inner.add_content(OscMessageBuilder("/perform/beat").build())
    outer = OscBundleBuilder(1_900_000_000.0)
    mix = OscMessageBuilder("/perform/mix")
    mix.add_arg(0.5)
    outer.add_content(mix.build())
    outer.add_content(inner.build())
    got = parse_datagram(outer.build().dgram)
    assert [(round(t), a, args) for t, a, args in got] == [(1_900_000_000, "/perform/mix", (0.5,)),
                                                          (2_000_000_000, "/perform/beat", ())]


def test_timetags_ahead_are_due_that_much_later_on_our_clock_and_past_or_immediate_ones_now():
    ahead = bundle(WALL + 1.5, (encode_message("/perform/scene/next", ())))
    past = bundle(WALL - 30.0, (encode_message("/perform/scene/prev", ())))
    now = bundle(IMMEDIATELY, (encode_message("/perform/beat", ())))
    (a,) = decode_datagram(ahead, NOW, WALL)
    assert a.address == "/perform/scene/next" and a.t_s == pytest.approx(NOW + 1.5, abs=1e-6)
    assert [m.t_s for m in decode_datagram(past, NOW, WALL)] == [NOW]
    assert [m.t_s for m in decode_datagram(now, NOW, WALL)] == [NOW]


def test_a_nested_bundle_keeps_its_own_timetag():
    inner = (bundle(WALL + 2.0, (encode_message("/perform/beat", ()))))
    data = bundle(WALL + 1.0, (encode_message("/perform/mix", (0.5,))), inner)
    got = decode_datagram(data, NOW, WALL)
    assert [m.address for m in got] == ["/perform/mix", "/perform/beat"]
    assert [m.t_s for m in got] == pytest.approx([NOW + 1.0, NOW + 2.0], abs=1e-6)


@pytest.mark.parametrize("data", [
    b"", b"garbage", b"/perform/mix", b"#bundle\x00\x00\x00",
    b"#bundle\x00" + b"\x00" * 8 + b"\x7f\xff\xff\xff",       # an element size beyond the datagram
    b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x00\x03abc",     # a size that is not a multiple of 4
    bytes(range(256)) * 4,
])
def test_junk_is_malformed_never_another_exception(data):
    with pytest.raises(MalformedPacket):
        decode_datagram(data, NOW, WALL)


def test_bundles_nested_too_deep_are_malformed():
    data = encode_message("/perform/beat", ())
    for _ in range(12):
        data = bundle(IMMEDIATELY, (data))
    with pytest.raises(MalformedPacket, match="too deep"):
        decode_datagram(data, NOW, WALL)
