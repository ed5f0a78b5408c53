"""OSC for explore over real UDP on 127.0.0.1: the project's server with the explore table, into session actions."""

from __future__ import annotations

import socket
from pathlib import Path

from perform.control.osc_codec import decode_datagram, encode_message
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.explore.osc import ROUTES, ExploreRouter, action_of, address_table
from perform.explore.session import ExploreSession


def _replies(sock: socket.socket, n: int) -> list[tuple[str, tuple]]:
    out = []
    for _ in range(n):  # each message gets one reply, sent after its event was posted: no sleeping
        m = decode_datagram(sock.recvfrom(65536)[0], 0.0, 0.0)[0]
        out.append((m.address, tuple(m.args)))
    return out


def test_pick_breed_back_favourite_and_strength_arrive_as_session_actions(tiny):
    _, space, identity, _ = tiny
    session = ExploreSession(space, identity)
    state = ControlState()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(10)
    with OSCServer(state, "127.0.0.1", 0, router=ExploreRouter()) as server:
        sent = [("/perform/explore/pick", [4]), ("/perform/explore/pick", [2.0]), ("/perform/explore/strength", [0.25]),
                ("/perform/explore/breed", []), ("/perform/explore/favourite", [3]), ("/perform/explore/back", [1]),
                ("/perform/explore/breed", [0]),      # a button's release: ignored, no reply
                ("/perform/explore/pick", [-1]), ("/perform/explore/pick", ["x"]), ("/perform/latent/3", [0.5])]
        for address, args in sent:
            client.sendto(encode_message(address, args), ("127.0.0.1", server.port))
        replies = _replies(client, 9)
        assert replies[:6] == [("/perform/reply" + a, ("ok",)) for a, _ in sent[:6]]
        assert [r[1][0] for r in replies[6:]] == ["error"] * 3
        assert "not an explore address" in replies[8][1][1]
        for e in state.drain(state.now() + 1.0):
            session.apply(action_of(e))
    client.close()
    assert session.strength == 0.25 and session.current == 0 and session.favourites == ["1.3"]
    assert session.generations[1].picks == (4, 2)
    c = state.counters
    assert (c.dropped("out_of_range"), c.dropped("wrong_type"), c.dropped("unknown_address")) == (1, 1, 1)


def test_the_address_table_lists_every_route_and_the_docs_show_it():
    table = address_table()
    assert all(f"`{r.address}`" in table for r in ROUTES) and len(ROUTES) == 6
    doc = (Path(__file__).parents[2] / "docs" / "explore.md").read_text()
    assert table in doc, "docs/explore.md is out of date: paste perform.explore.osc.address_table() into it"
