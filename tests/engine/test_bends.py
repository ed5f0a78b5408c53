"""Bends through the whole show: OSC over real UDP reaches the network, rehearsals repeat bit for bit (in the
inference child too), and a crossfade between scenes with different bend values interpolates them."""

from __future__ import annotations

import hashlib
import math
import time

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from perform.control.osc_routes import Router
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.live_show import declare_controls
from perform.engine.plan import generate
from perform.engine.show import build_show

BENT = """
[show]
title = "bent"
size = [96, 64]
fps = 10
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1]
duration = 1
transition = { kind = "crossfade", seconds = 1 }
[[scene.bend]]
name = "warp"
layer = "res8"
transform = "rotate"
params = { angle = 0 }
[[scene.bend]]
name = "grain"
layer = "res16"
transform = "noise"
target = "random:0.5"
seed = 3
params = { amount = 1.0 }
[[scene.mapping]]
source = "time"
target = "bend.grain.step"
in = [0, 10]
out = [0, 10]
[[scene]]
name = "b"
seeds = [1]
duration = "hold"
mapping = []
[[scene.bend]]
name = "warp"
layer = "res8"
transform = "rotate"
params = { angle = 120 }
"""


def wait_for(pred, timeout_s=3.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return False


def test_an_osc_message_to_a_bend_changes_the_next_image_and_nan_never_reaches_it(setlist_file):
    state = ControlState(clock=lambda: 0.0)
    show = build_show(setlist_file(BENT), device="cpu", control=state)
    router = Router()
    declare_controls(router, show.conductor)
    server = OSCServer(state, port=0, router=router).start()
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        def frame(n):
            got = []
            assert wait_for(lambda: got.extend(state.drain(0.0)) or state.counters.get("received") >= n)
            plan = show.conductor.step(0.0, n, None, got)
            return plan, generate(plan, show.models).images[0]

        _, before = frame(0)
        client.send_message("/perform/bend/warp/angle", 0.75)  # 0..1 onto -180..180: 90 degrees
        plan, after = frame(1)
        assert dict(plan.jobs[0].net)["bend.warp.angle"] == pytest.approx(90.0)
        assert (after != before).any(axis=-1).mean() > 0.3
        client.send_message("/perform/bend/warp/angle", math.nan)
        client.send_message("/perform/bend/warp/angle", math.inf)
        plan, again = frame(3)
        assert state.counters.dropped("out_of_range") == 2
        assert dict(plan.jobs[0].net)["bend.warp.angle"] == pytest.approx(90.0)
        assert np.array_equal(again, after)
        client.send_message("/perform/bend/nosuch/angle", 0.5)  # a bend the show does not have: refused, counted
        assert wait_for(lambda: state.counters.dropped("unknown_address") == 1)
    finally:
        server.close()


@pytest.mark.gl
def test_a_rehearsal_with_bends_gives_the_same_frames_twice_and_in_the_inference_child(setlist_file, render):
    p = setlist_file(BENT)
    first = render(p, 24)
    a = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in first]
    assert [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 24)] == a
    assert len(set(a[:10])) == 10  # the noise moves every frame (its step follows time)
    piped = render(p, 24, pipelined=True)
    assert [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in piped] == a


@pytest.mark.gl
def test_a_crossfade_interpolates_the_bend_values_of_the_two_scenes(setlist_file, render):
    frames = render(setlist_file(BENT), 22)
    nets = [[dict(j.net) for j in plan.jobs] for _, plan in frames]
    assert nets[5] == [{"bend.grain.amount": 1.0, "bend.grain.step": 0.5, "bend.warp.angle": 0.0}]
    # frames 10..19: the crossfade; both images on the way from a's values (0 degrees, grain on) to b's
    for n in range(11, 20):
        p = (n - 10) / 10
        for net in nets[n]:
            assert net["bend.warp.angle"] == pytest.approx(120.0 * p)
            assert net["bend.grain.amount"] == pytest.approx(1.0 - p)
    assert nets[21] == [{"bend.warp.angle": 120.0}]
    # what the audience sees moves all the way: the last crossfade frame is close to b's first
    last, b = frames[19][0].astype(int), frames[21][0].astype(int)
    first = frames[9][0].astype(int)
    assert np.abs(last - b).mean() < 0.5 * np.abs(first - b).mean()
