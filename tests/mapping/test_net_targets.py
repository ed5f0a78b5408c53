"""Live network parameters as mapping targets: bend.<name>.<param>, blend.*, trajectory.position."""

from __future__ import annotations

import math

import pytest

from perform.control.events import ControlEvent
from perform.control.state import ControlState
from perform.mapping.engine import MappingEngine
from perform.mapping.spec import MappingError, parse_mapping

NET = {"bend.warp.angle": (-180.0, 180.0, 0.0), "bend.holes.amount": (0.0, 1.0, 0.0), "blend.alpha": (0.0, 1.0, 0.0)}


def spec(**kw):
    return parse_mapping({"source": "in.a", **kw}, "test")


@pytest.mark.parametrize("target", ["bend.warp.angle", "blend.alpha", "blend.alpha.coarse", "blend.swap",
                                    "trajectory.position"])
def test_net_targets_are_well_formed(target):
    assert spec(target=target).target == target


@pytest.mark.parametrize("target", ["bend.warp", "blend.beta", "blend.alpha.tiny", "trajectory", "trajectory.pos"])
def test_malformed_net_targets_name_the_forms(target):
    with pytest.raises(MappingError, match="bend.<name>.<param>, blend.alpha"):
        spec(target=target)


def test_a_target_the_model_does_not_declare_is_refused_naming_what_it_has():
    with pytest.raises(MappingError) as e:
        MappingEngine([spec(target="bend.warp.angel")], 4, net_params=NET)
    assert "no live parameter 'bend.warp.angel'" in str(e.value)
    assert "bend.holes.amount, bend.warp.angle, blend.alpha" in str(e.value) and "did you mean 'bend.warp.angle'" in str(e.value)
    with pytest.raises(MappingError, match=r"it has: none"):
        MappingEngine([spec(target="blend.alpha")], 4)  # a model with no live parameters


def test_scene_values_mappings_and_holds_combine_within_the_range():
    eng = MappingEngine([spec(target="bend.warp.angle", out=[0, 60])], 4, net_params=NET,
                        net_base={"bend.warp.angle": 90.0, "bend.holes.amount": 0.5})
    p = eng.evaluate(0.0, {"a": 0.5}, {})
    assert dict(p.net) == {"bend.warp.angle": pytest.approx(120.0), "bend.holes.amount": 0.5}
    assert eng.evaluate(0.1, {"a": 1.0}, {}).net["bend.warp.angle"] == 150.0
    st = ControlState(clock=lambda: 0.0)
    st.post(ControlEvent(0.0, "/perform/bend/warp/angle", (0.25,)))
    st.post(ControlEvent(0.0, "/perform/blend/alpha", (1.0,)))
    st.drain(0.0)
    p = eng.evaluate(0.2, {"a": 1.0}, {}, overrides=st.overrides)
    assert p.net["bend.warp.angle"] == -90.0  # a hold: 0..1 onto -180..180, replacing the mapped value
    assert p.net["blend.alpha"] == 1.0


def test_values_beyond_the_range_are_clamped_and_non_finite_ones_fall_back():
    eng = MappingEngine([spec(target="bend.holes.amount", out=[0, 5])], 4, net_params=NET,
                        net_base={"bend.holes.amount": 0.25})
    assert eng.evaluate(0.0, {"a": 1.0}, {}).net["bend.holes.amount"] == 1.0
    assert eng._clamp("bend.holes.amount", math.nan) == 0.25


def test_a_scene_value_for_an_undeclared_parameter_is_refused():
    with pytest.raises(MappingError, match="'blend.swap', which its model does not declare"):
        MappingEngine([], 4, net_params=NET, net_base={"blend.swap": 1.0})
