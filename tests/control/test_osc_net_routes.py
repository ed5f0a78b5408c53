"""OSC routes to live network parameters: /perform/bend/<name>/<param>, /perform/blend/..., /perform/trajectory."""

from __future__ import annotations

import math

import pytest

from perform.control.events import ControlEvent
from perform.control.osc_routes import Rejected, Router, held_values, net_address

NET = ("bend.warp.angle", "bend.holes.amount", "blend.alpha", "blend.alpha.fine", "blend.swap", "trajectory.position")


@pytest.mark.parametrize("address, key", [
    ("/perform/bend/warp/angle", "bend.warp.angle"),
    ("/perform/blend/alpha", "blend.alpha"),
    ("/perform/blend/alpha/fine", "blend.alpha.fine"),
    ("/perform/blend/swap", "blend.swap"),
    ("/perform/trajectory", "trajectory.position"),
])
def test_each_net_address_holds_its_parameter(address, key):
    [ev] = Router(net_params=NET).route(address, [0.25], 1.0)
    assert list(held_values(ev)) == [(key, 0.25)]
    assert net_address(key) == address


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected(value):
    with pytest.raises(Rejected) as e:
        Router(net_params=NET).route("/perform/bend/warp/angle", [value], 1.0)
    assert e.value.kind == "out_of_range"


def test_undeclared_parameters_are_refused_naming_the_declared_ones():
    r = Router(net_params=NET)
    with pytest.raises(Rejected) as e:
        r.route("/perform/bend/wrap/angle", [0.5], 1.0)
    assert e.value.kind == "unknown_address" and "'bend.wrap.angle'" in e.value.detail
    assert "bend.warp.angle" in e.value.detail
    with pytest.raises(Rejected, match="no live parameter 'blend.alpha.coarse'"):
        r.route("/perform/blend/alpha/coarse", [0.5], 1.0)
    assert Router().route("/perform/bend/any/thing", [0.5], 1.0)  # nothing declared yet: any well-formed name


def test_wildcards_reach_the_declared_bend_parameters():
    evs = Router(net_params=NET).route("/perform/bend/*/*", [1.0], 1.0)
    assert sorted(e.address for e in evs) == ["/perform/bend/holes/amount", "/perform/bend/warp/angle"]
    assert {e.args for e in evs} == {(1.0,)}


def test_a_value_outside_0_1_is_refused():
    with pytest.raises(Rejected, match="outside 0..1"):
        Router(net_params=NET).route("/perform/trajectory", [1.5], 1.0)
    ev = ControlEvent(0.0, "/perform/trajectory", ())
    assert list(held_values(ev)) == []
