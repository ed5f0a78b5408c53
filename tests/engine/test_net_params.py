"""The plumbing of live network parameters for any model that declares them (here a stand-in declaring
`blend.alpha` and `blend.swap`, as a blended model will): setlist values, mappings, OSC holds, crossfades,
GenJob.net, and set_net_params before each image."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.control.osc_routes import Router
from perform.control.state import ControlState
from perform.engine.live_show import declare_controls
from perform.engine.plan import generate
from perform.engine.show import build_show
from perform.mapping.spec import MappingError
from perform.nets.model import load_model
from perform.setlist.loader import load_setlist

SHOW = """
[show]
size = [64, 32]
fps = 10
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1]
duration = 1
transition = { kind = "crossfade", seconds = 1 }
[[scene.mapping]]
source = "in.fader"
target = "blend.alpha"
out = [0.0, 0.5]
[scene.net]
blend.swap = 1
[[scene]]
name = "b"
seeds = [1]
duration = "hold"
mapping = []
[scene.net]
blend.alpha = 1.0
"""


class Blended:
    """A stand-in for a blended model: the image darkens with `blend.alpha`; it records what it was given."""

    def __init__(self, inner):
        self.inner = inner
        self.seen: list[dict] = []
        self.alpha = 0.0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def net_params(self):
        return {"blend.alpha": (0.0, 1.0, 0.0), "blend.swap": (0.0, 1.0, 0.0)}

    def set_net_params(self, values):
        self.seen.append(dict(values))
        a = values.get("blend.alpha", 0.0)
        self.alpha = a if math.isfinite(a) else 0.0

    def generate(self, latent, crop=None, mix=0.0):
        return (self.inner.generate(latent, crop, mix) * (1.0 - self.alpha)).astype(np.uint8)


@pytest.fixture
def staged_show(setlist_file, model_dir):
    def build(text=SHOW, control=None):
        path = setlist_file(text)
        sl = load_setlist(path)
        model = Blended(load_model(model_dir / "tiny.json", "cpu"))
        return build_show(sl, models={str(sl.scenes[0].model_path): model}, control=control), model

    return build


def test_scene_values_mappings_and_osc_holds_reach_the_model(staged_show):
    state = ControlState(clock=lambda: 0.0)
    show, model = staged_show(control=state)
    router = Router()
    declare_controls(router, show.conductor)
    step = lambda t, n, events=(): show.conductor.step(t, n, None, list(events))
    plan = step(0.0, 0)
    assert dict(plan.jobs[0].net) == {"blend.alpha": 0.0, "blend.swap": 1.0}
    dark = generate(plan, show.models).images[0]
    assert model.seen[-1] == {"blend.alpha": 0.0, "blend.swap": 1.0}
    state.post(ControlEvent(0.1, "/perform/in/fader", (1.0,)))
    plan = step(0.1, 1, state.drain(0.1))
    assert dict(plan.jobs[0].net)["blend.alpha"] == pytest.approx(0.5)  # mapped: 0..0.5
    [ev] = router.route("/perform/blend/alpha", [0.8], 0.2)
    state.post(ev)
    plan = step(0.2, 2, state.drain(0.2))
    assert dict(plan.jobs[0].net)["blend.alpha"] == pytest.approx(0.8)  # a hold replaces the mapped value
    img = generate(plan, show.models).images[0]
    assert model.seen[-1]["blend.alpha"] == pytest.approx(0.8) and img.mean() < 0.5 * dark.mean()


def test_a_crossfade_moves_the_parameters_from_one_scene_to_the_other(staged_show):
    show, model = staged_show()
    nets = [[dict(j.net) for j in show.conductor.step(n / 10, n, None, []).jobs] for n in range(22)]
    assert nets[5] == [{"blend.alpha": 0.0, "blend.swap": 1.0}]
    for n in range(11, 20):  # the 1 s crossfade from 1 s: a's values towards b's on both images
        p = (n - 10) / 10
        for net in nets[n]:
            assert net == {"blend.alpha": pytest.approx(p), "blend.swap": pytest.approx(1.0 - p)}
    assert nets[21] == [{"blend.alpha": 1.0}]


def test_a_parameter_the_model_does_not_declare_is_refused_naming_what_it_has(staged_show):
    text = SHOW.replace('target = "blend.alpha"', 'target = "trajectory.position"')
    with pytest.raises(MappingError) as e:
        staged_show(text)
    assert "no live parameter 'trajectory.position'" in str(e.value) and "blend.alpha, blend.swap" in str(e.value)


def test_the_router_narrows_to_the_declared_parameters(staged_show):
    show, _ = staged_show()
    router = Router()
    declare_controls(router, show.conductor)
    assert router.route("/perform/blend/swap", [1.0], 0.0)
    with pytest.raises(Exception, match="no live parameter 'trajectory.position'"):
        router.route("/perform/trajectory", [0.5], 0.0)
