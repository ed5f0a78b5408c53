"""OSCQuery over HTTP on 127.0.0.1: the address space of a real show with types and ranges, values that follow a
real UDP OSC message, HOST_INFO, and the tree following a setlist reload."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pythonosc.udp_client import SimpleUDPClient

from perform.control.osc_server import OSCServer
from perform.control.oscquery import OSCQueryServer, ShowFacts, tree
from perform.control.state import ControlState
from perform.engine.live_show import make_reloader
from perform.engine.oscquery_show import open_oscquery, show_facts
from perform.engine.show import build_models, build_show

SHOW = """
[show]
title = "query test"
size = [96, 64]

[show.defaults]
model = "{models}/tiny"

[[scene]]
name = "first"
seeds = [1]
duration = "hold"

[[scene.mapping]]
source = "in.fader1"
target = "latent.0"
in = [0.0, 10.0]
out = [-1.0, 1.0]

[[scene.shader]]
type = "colour_grade"
name = "grade"
params = { saturation = 2.0 }

[[scene]]
name = "second"
seeds = [2]
duration = "hold"
mapping = []
"""


def get(port: int, target: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{target}", timeout=10) as r:
            body = r.read()
            return r.status, (json.loads(body) if body else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def live(setlist_file):
    """A show's conductor, its ControlState, a real OSC server and the OSCQuery service on 127.0.0.1."""
    control = ControlState()
    path = setlist_file(SHOW)
    show = build_show(path, device="cpu", control=control)
    osc = OSCServer(control, port=0).start()
    query = open_oscquery(show.conductor, control, "127.0.0.1", osc.port, port=0, mdns=False)
    assert query is not None
    yield show, control, osc, query, path
    query.close()
    osc.close()


def test_get_returns_the_address_space_with_types_ranges_and_descriptions(live):
    show, control, osc, query, _ = live
    status, root = get(query.port, "/")
    assert status == 200 and root["FULL_PATH"] == "/" and "query test" in root["DESCRIPTION"]
    perform = root["CONTENTS"]["perform"]
    assert perform["FULL_PATH"] == "/perform"
    mix = perform["CONTENTS"]["mix"]
    assert mix["TYPE"] == "f" and mix["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}] and mix["ACCESS"] == 3
    latent = perform["CONTENTS"]["latent"]
    assert latent["TYPE"] == "f" * 16 and len(latent["RANGE"]) == 16 and latent["ACCESS"] == 2  # the many-float form
    assert sorted(latent["CONTENTS"], key=int) == [str(i) for i in range(16)]
    assert latent["CONTENTS"]["3"]["VALUE"] == [0.5] and latent["CONTENTS"]["3"]["FULL_PATH"] == "/perform/latent/3"
    assert perform["CONTENTS"]["direction"]["CONTENTS"]["mouth_open"]["TYPE"] == "f"
    sat = perform["CONTENTS"]["shader"]["CONTENTS"]["grade"]["CONTENTS"]["saturation"]
    assert sat["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}] and "real range 0..3, default 2" in sat["DESCRIPTION"]
    assert sat["VALUE"] == [pytest.approx(2.0 / 3.0)]  # the scene's own value, normalised
    fader = perform["CONTENTS"]["in"]["CONTENTS"]["fader1"]
    assert fader["RANGE"] == [{"MIN": 0.0, "MAX": 10.0}]  # the range the mapping reads
    go = perform["CONTENTS"]["scene"]["CONTENTS"]["go"]
    assert go["TYPE"] == "s" and go["RANGE"] == [{"VALS": ["first", "second"]}] and go["ACCESS"] == 2
    assert perform["CONTENTS"]["tempo"]["RANGE"] == [{"MIN": 20.0, "MAX": 400.0}]
    assert perform["CONTENTS"]["scene"]["CONTENTS"]["next"]["TYPE"] == "N"
    # one node, one attribute, an unknown path, an unknown attribute
    assert get(query.port, "/perform/mix")[1]["FULL_PATH"] == "/perform/mix"
    assert get(query.port, "/perform/latent/3?RANGE") == (200, {"RANGE": [{"MIN": 0.0, "MAX": 1.0}]})
    assert get(query.port, "/perform/nothing")[0] == 404
    assert get(query.port, "/perform/mix?COLOUR")[0] == 400


def test_a_value_changes_after_a_real_udp_osc_message(live):
    show, control, osc, query, _ = live
    assert get(query.port, "/perform/latent/3?VALUE") == (200, {"VALUE": [0.5]})
    assert get(query.port, "/perform/mix?VALUE")[0] == 204  # nothing holds the mix yet: no value to give
    client = SimpleUDPClient("127.0.0.1", osc.port)
    client.send_message("/perform/latent/3", 0.25)
    client.send_message("/perform/mix", 0.75)
    client.send_message("/perform/in/fader1", 7.0)
    drained = []
    while len(drained) < 3:  # the render loop's next frames drain them
        drained += control.drain(control.now())
    assert get(query.port, "/perform/latent/3?VALUE") == (200, {"VALUE": [0.25]})
    assert get(query.port, "/perform/mix?VALUE") == (200, {"VALUE": [0.75]})
    assert get(query.port, "/perform/in/fader1?VALUE") == (200, {"VALUE": [7.0]})


def test_host_info_names_the_osc_port_and_transport(live):
    show, control, osc, query, _ = live
    status, info = get(query.port, "/?HOST_INFO")
    assert status == 200 and info["OSC_PORT"] == osc.port and info["OSC_TRANSPORT"] == "UDP"
    assert info["OSC_IP"] == "127.0.0.1" and info["EXTENSIONS"]["VALUE"] and info["EXTENSIONS"]["RANGE"]


def test_the_tree_follows_a_setlist_reload(live, staged):
    _, control, osc, query, path = live
    show, presenter = staged(path, control=control)
    reloader = make_reloader(str(path), show.setlist, show.conductor, presenter,
                             lambda s, cache: build_models(s, "cpu", cache), None, query)
    query.set_facts(show_facts(show.conductor))
    assert get(query.port, "/perform/shader/pix/size")[0] == 404
    path.write_text(path.read_text().replace('name = "second"', 'name = "third"')
                    + '[[scene.shader]]\ntype = "pixelate"\nname = "pix"\n')
    reloader(1.0)
    assert reloader.reloads == 1
    status, node = get(query.port, "/perform/shader/pix/size")
    assert status == 200 and "real range 1..64" in node["DESCRIPTION"]
    assert get(query.port, "/perform/scene/go?RANGE")[1] == {"RANGE": [{"VALS": ["first", "third"]}]}


def test_mdns_that_cannot_register_is_a_log_line_and_http_still_answers(monkeypatch):
    import zeroconf

    def no_multicast(*a, **k):
        raise OSError(19, "No such device (no multicast here)")

    monkeypatch.setattr(zeroconf, "Zeroconf", no_multicast)
    facts = ShowFacts(latent_dim=2, scenes=("a",))
    with OSCQueryServer(facts, dict, 9000, port=0, mdns=True) as query:
        query._mdns_thread.join(10)
        assert query.mdns_status.startswith("not advertised (OSError")
        assert get(query.port, "/perform/latent/1?VALUE") == (200, {"VALUE": [0.5]})
    assert tree(facts, {})["CONTENTS"]["perform"]["CONTENTS"]["latent"]["TYPE"] == "ff"


def test_a_taken_port_falls_back_to_a_free_one_and_the_flags_reach_the_config(setlist_file):
    import socket

    from perform.cli import build_parser
    from perform.engine.live_show import LiveConfig

    control = ControlState()
    show = build_show(setlist_file(SHOW), device="cpu", control=control)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        query = open_oscquery(show.conductor, control, "127.0.0.1", 9000, port=port, mdns=False)
        try:
            assert query is not None and query.port != port
            assert get(query.port, "/?HOST_INFO")[1]["OSC_PORT"] == 9000
        finally:
            query.close()
    parse = build_parser().parse_args
    assert LiveConfig.from_args(parse(["live"])).oscquery is True
    cfg = LiveConfig.from_args(parse(["live", "--no-oscquery", "--oscquery-port", "9500"]))
    assert cfg.oscquery is False and cfg.oscquery_port == 9500
