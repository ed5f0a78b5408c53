"""The OSC 1.0 codec: datagram bytes <-> messages, bundles flattened, timetags put on the engine's clock.

No socket and no thread here (python-osc keeps its dispatcher apart from its server the same way):
`decode_datagram` is what the receiving thread calls per datagram, and tests push raw bytes through it.
python-osc's packet classes do the byte-level parsing; bundles are walked here, bounded in depth, so a
bundle's timetag applies to its own messages and nothing sleeps until it is due.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable

from pythonosc import osc_message
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import osc_types

_BUNDLE = b"#bundle\x00"
MAX_BUNDLE_DEPTH = 8


class MalformedPacket(ValueError):
    """Bytes that are not an OSC message or bundle (or a truncated one)."""


@dataclass(frozen=True, slots=True)
class OscPacketMessage:
    """One message of a datagram. t_s: when it is due on the engine's clock (arrival time unless a bundle's
    timetag lies ahead); address and args as sent."""

    t_s: float
    address: str
    args: tuple


def parse_datagram(data: bytes, max_depth: int = MAX_BUNDLE_DEPTH) -> list[tuple[float | None, str, tuple]]:
    """(timetag, address, args) for each message of a datagram, bundles flattened.

    timetag: seconds since the Unix epoch (wall clock), or None for 'immediately'. A nested bundle's
    own timetag applies to its messages. Raises MalformedPacket on anything malformed.
    """
    out: list[tuple[float | None, str, tuple]] = []
    try:
        _walk(data, None, out, max_depth)
    except osc_types.ParseError as e:  # a bundle's timetag that does not parse
        raise MalformedPacket(str(e)) from None
    return out


def decode_datagram(data: bytes, now_s: float, wall_s: float) -> list[OscPacketMessage]:
    """The messages of one datagram, each due at a time on the engine's clock.

    now_s: the arrival time on the engine's clock; wall_s: the wall clock (time.time()) at arrival. A
    timetag ahead of the wall clock is due that much after now_s (the sender's clock need only agree
    with ours as well as NTP keeps them); 'immediately' and past timetags are due at now_s.
    """
    return [OscPacketMessage(now_s if tag is None or tag <= wall_s else now_s + (tag - wall_s), address, args)
            for tag, address, args in parse_datagram(data)]


def _walk(data: bytes, timetag: float | None, out: list, depth: int) -> None:
    if data.startswith(_BUNDLE):
        if depth <= 0:
            raise MalformedPacket("bundles nested too deep")
        if len(data) < 16:
            raise MalformedPacket("bundle shorter than its header")
        t, i = osc_types.get_date(data, 8)
        tag = None if t == osc_types.IMMEDIATELY else float(t)
        while i < len(data):
            if i + 4 > len(data):
                raise MalformedPacket("truncated bundle element size")
            (size,) = struct.unpack_from(">i", data, i)
            i += 4
            if size <= 0 or size % 4 or i + size > len(data):
                raise MalformedPacket(f"bad bundle element size {size}")
            _walk(data[i:i + size], tag, out, depth - 1)
            i += size
    elif data[:1] == b"/":
        try:
            msg = osc_message.OscMessage(data)
        except Exception as e:  # python-osc raises ParseError, but also IndexError/struct.error on junk
            raise MalformedPacket(f"bad message: {e}") from None
        out.append((timetag, msg.address, tuple(msg.params)))
    else:
        raise MalformedPacket("neither an OSC message nor a bundle")


def build_message(address: str, args: Iterable) -> osc_message.OscMessage:
    """One OSC message (float, int, bool, str args)."""
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build()


def encode_message(address: str, args: Iterable) -> bytes:
    """The datagram of one OSC message."""
    return build_message(address, args).dgram
