"""Bends and a live blend together on the shipped models, through the whole show: OSC moves the blend under
the bends, alpha 0 is the bent face-64 exactly, and a rehearsal repeats bit for bit, in the inference child too."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.control.state import ControlState
from perform.engine.plan import generate
from perform.engine.show import build_show
from perform.nets.bending.bent import bend_model
from perform.nets.model import load_model

ROOT = Path(__file__).resolve().parents[2]

SHOW = f"""
[show]
size = [96, 64]
fps = 10
[[scene]]
name = "bent-blend"
model = "{ROOT}/models/face-64"
drive = "latent"
seeds = [4]
blend = {{ with = "{ROOT}/models/face-64-diverged", alpha = 0.0 }}
[[scene.bend]]
name = "warp"
layer = "res16"
transform = "rotate"
params = {{ angle = 40 }}
[[scene.mapping]]
source = "in.fader"
target = "blend.alpha"
"""

MOVING = SHOW + """[[scene.mapping]]
source = "lfo.sine"
target = "bend.warp.angle"
rate = 0.5
out = [-60.0, 60.0]
"""


def _image(show, events=()):
    plan = show.conductor.step(0.0, 0, None, list(events))
    return plan, generate(plan, show.models).images[0]


def test_the_blend_moves_under_the_bends_and_alpha_0_is_the_bent_model_alone(setlist_file):
    state = ControlState(clock=lambda: 0.0)
    show = build_show(setlist_file(SHOW), device="cpu", control=state)
    plan, at_0 = _image(show)
    job = plan.jobs[0]
    plain = bend_model(load_model(ROOT / "models" / "face-64", "cpu"), show.setlist.scenes[0].bends)
    plain.set_net_params(dict(job.net))
    # alpha 0: the first model's weights exactly, bent the same way
    assert np.array_equal(at_0, plain.generate(job.latent, job.crop, job.mix))

    state.post(ControlEvent(0.0, "/perform/in/fader", (1.0,)))
    plan, at_1 = _image(show, state.drain(0.0))
    assert dict(plan.jobs[0].net)["blend.alpha"] == pytest.approx(1.0)
    assert dict(plan.jobs[0].net)["bend.warp.angle"] == pytest.approx(40.0)
    assert (at_1 != at_0).any(axis=-1).mean() > 0.3  # the diverged weights under the same bend


@pytest.mark.gl
def test_a_rehearsal_with_bends_on_a_live_blend_repeats_bit_for_bit_in_the_inference_child(setlist_file, render):
    events = [ControlEvent(t, "/perform/in/fader", (x,)) for t, x in ((0.2, 0.3), (0.6, 0.8), (1.0, 0.1))]
    p = setlist_file(MOVING)
    a = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 14, events=events)]
    assert len(set(a)) >= 10  # the bend's LFO and the fader move the image
    piped = render(p, 14, events=events, pipelined=True)
    assert [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in piped] == a
