"""The routing table without sockets: coercion, ranges, wildcards, declared context, docs in step."""

import math
from pathlib import Path

import pytest

from perform.control.events import ControlEvent
from perform.control.osc_routes import ROUTES, Ignored, Rejected, Router, address_space_table, held_values, pattern_regex


def kind_of(router, address, *args):
    with pytest.raises(Rejected) as e:
        router.route(address, args, 0.0)
    return e.value.kind


def test_numbers_of_any_osc_type_are_coerced():
    r = Router()
    assert r.route("/perform/mix", [1], 0.0)[0].args == (1.0,)
    assert r.route("/perform/mix", [True], 0.0)[0].args == (1.0,)
    assert r.route("/perform/latent/3", [0.25], 1.5) == [ControlEvent(1.5, "/perform/latent/3", (0.25,))]
    assert r.route("/perform/freeze", [1.0], 0.0)[0].args == (True,)
    assert r.route("/perform/freeze", [], 0.0)[0].args == ()  # toggle
    assert r.route("/perform/scene/go", [2.0], 0.0)[0].args == (2,)
    assert r.route("/perform/scene/go", ["chorus"], 0.0)[0].args == ("chorus",)


def test_bad_messages_are_rejected_by_kind():
    r = Router(latent_dim=8, directions=["smile"], shader_params=[("bloom", "amount")])
    assert kind_of(r, "/perform/nope", 1.0) == "unknown_address"
    assert kind_of(r, "/other/mix", 1.0) == "unknown_address"
    assert kind_of(r, "/perform/mix", "loud") == "wrong_type"
    assert kind_of(r, "/perform/mix", 0.1, 0.2) == "wrong_type"
    assert kind_of(r, "/perform/mix", 1.5) == "out_of_range"
    assert kind_of(r, "/perform/mix", math.nan) == "out_of_range"
    assert kind_of(r, "/perform/latent/8", 0.5) == "out_of_range"
    assert kind_of(r, "/perform/latent", *([0.5] * 9)) == "out_of_range"
    assert kind_of(r, "/perform/direction/frown", 0.5) == "unknown_address"
    assert kind_of(r, "/perform/shader/bloom/radius", 0.5) == "unknown_address"
    assert kind_of(r, "/perform/tempo", 10.0) == "out_of_range"
    assert kind_of(r, "/perform/scene/go", 1.5) == "out_of_range"


def test_button_release_on_a_trigger_is_ignored():
    r = Router()
    assert r.route("/perform/scene/next", [1.0], 0.0)[0].args == ()
    with pytest.raises(Ignored):
        r.route("/perform/scene/next", [0.0], 0.0)
    assert r.route("/perform/beat", [0], 0.0)[0].args == (0,)  # an int is a beat count


def test_wildcards_reach_every_matching_declared_value_and_no_command():
    r = Router(latent_dim=4, inputs=["fader1", "fader2", "knob"])
    got = sorted(e.address for e in r.route("/perform/in/fader*", [0.5], 0.0))
    assert got == ["/perform/in/fader1", "/perform/in/fader2"]
    assert len(r.route("/perform/latent/[0-2]", [0.5], 0.0)) == 3
    assert len(r.route("/perform/latent/{1,3}", [0.5], 0.0)) == 2
    assert kind_of(r, "/perform/in/knob?", 0.5) == "unknown_address"  # '?' is exactly one character
    assert kind_of(r, "/perform/scene/*") == "unknown_address"
    assert kind_of(r, "/perform/*/next") == "unknown_address"


def test_inputs_are_learnt_for_wildcards_and_bounded():
    r = Router(max_inputs=2)
    r.route("/perform/in/a", [0.1], 0.0)
    r.route("/perform/in/b", [0.1], 0.0)
    assert kind_of(r, "/perform/in/c", 0.1) == "out_of_range"
    assert {e.address for e in r.route("/perform/in/*", [0.3], 0.0)} == {"/perform/in/a", "/perform/in/b"}


def test_pattern_regex_follows_osc_rules():
    assert pattern_regex("/a/[!x-z]b").fullmatch("/a/ab")
    assert not pattern_regex("/a/[!x-z]b").fullmatch("/a/xb")
    assert not pattern_regex("/a/*").fullmatch("/a/b/c")  # * never crosses '/'


def test_held_values():
    assert list(held_values(ControlEvent(0, "/perform/shader/p/q", (0.5,)))) == [("shader.p.q", 0.5)]
    assert list(held_values(ControlEvent(0, "/perform/latent", (0.1, 0.2)))) == [("latent.0", 0.1), ("latent.1", 0.2)]
    assert list(held_values(ControlEvent(0, "/perform/scene/go", (1,)))) == []


def test_docs_list_every_address():
    doc = (Path(__file__).parents[2] / "docs" / "osc.md").read_text()
    assert address_space_table() in doc, "docs/osc.md is out of date: paste `perform osc --markdown` into it"
    assert len(ROUTES) >= 15
