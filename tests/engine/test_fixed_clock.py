"""The fixed clock end to end: setlist -> conductor -> model -> shader chain -> pixels, frame-exact."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.engine.app import build_models, load_setlist_or_default, make_conductor
from perform.engine.fixed import EventTimeline, FixedOptions, run_fixed
from perform.engine.presenter import ChainPresenter

pytestmark = pytest.mark.gl

TWO_SCENES = """
[show]
title = "ab"
size = [96, 64]
fps = 10
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1]
duration = 1
transition = { kind = "crossfade", seconds = 2 }
mapping = []
[[scene]]
name = "b"
seeds = [2]
duration = "hold"
mapping = []
"""


def render(path, frames: int, gl, events=(), face=None):
    """Every frame (pixels, plan) of a fixed-clock run of the setlist at `path`."""
    sl = load_setlist_or_default(str(path), None, None, None)
    models = build_models(sl, "cpu")
    conductor = make_conductor(sl, models)
    timeline = EventTimeline(events)
    conductor.control = timeline.control
    presenter = ChainPresenter(gl, sl.show.size, conductor, hot_reload=False)
    out = []
    try:
        run_fixed(conductor, presenter, face, timeline, FixedOptions(sl.show.fps, 0, frames),
                  on_frame=lambda n, px, plan: out.append((px.copy(), plan)))
    finally:
        presenter.close()
    return out


def test_same_inputs_give_identical_frames(setlist_file, gl):
    p = setlist_file(TWO_SCENES)
    a = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 40, gl)]
    b = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 40, gl)]
    assert a == b
    assert len(set(a)) > 1  # and they are not all the same picture


def test_crossfade_moves_from_a_to_b_across_exactly_its_frames(setlist_file, gl):
    frames = render(setlist_file(TWO_SCENES), 40, gl)
    fades = [plan.fade if len(plan.jobs) == 2 else None for _, plan in frames]
    # scene a lasts 1 s at 10 fps: frames 0..9; the 2 s crossfade covers frames 10..29
    assert all(f is None for f in fades[:10])
    assert all(f is not None for f in fades[11:30])
    assert all(f is None for f in fades[30:])
    inner = [f for f in fades[10:30] if f is not None]
    assert inner == sorted(inner) and inner[0] < 0.1 and inner[-1] > 0.9
    a_img, b_img = frames[5][0].astype(float), frames[35][0].astype(float)
    mid = frames[20][0].astype(float)
    assert np.abs(a_img - b_img).mean() > 1.0  # the scenes look different
    # halfway through, the picture lies between the two scenes'
    d_a, d_b = np.abs(mid - a_img).mean(), np.abs(mid - b_img).mean()
    assert 0 < d_a < np.abs(a_img - b_img).mean() and 0 < d_b < np.abs(a_img - b_img).mean()


def test_osc_trigger_during_hold_advances_at_that_frame(setlist_file, gl):
    text = TWO_SCENES.replace('duration = 1\ntransition = { kind = "crossfade", seconds = 2 }', 'duration = "hold"')
    ev = ControlEvent(1.25, "/perform/scene/next", (), "replay")  # frame 12.5 at 10 fps -> due at frame 13
    frames = render(setlist_file(text), 20, gl, events=[ev])
    scenes = [plan.scene for _, plan in frames]
    assert scenes[:13] == ["a"] * 13
    assert scenes[13:] == ["b"] * 7


def test_latent_transition_passes_through_intermediate_latents(setlist_file, gl):
    text = TWO_SCENES.replace('kind = "crossfade"', 'kind = "latent"')
    frames = render(setlist_file(text), 40, gl)
    za, zb = frames[5][1].jobs[0].latent, frames[35][1].jobs[0].latent
    mid = frames[20][1]
    assert len(mid.jobs) == 1  # one image: the latent moves, not the pixels
    z = mid.jobs[0].latent
    assert not np.allclose(z, za) and not np.allclose(z, zb)
    # on the way: closer to both ends than they are to each other
    assert np.linalg.norm(z - za) < np.linalg.norm(zb - za) and np.linalg.norm(z - zb) < np.linalg.norm(zb - za)


def test_osc_shader_parameter_event_changes_pixels(setlist_file, gl):
    text = TWO_SCENES.replace('mapping = []\n[[scene]]', 'mapping = []\n[[scene.shader]]\ntype = "colour_grade"\nname = "grade"\n[[scene]]', 1)
    ev = ControlEvent(0.5, "/perform/shader/grade/saturation", (0.0,), "replay")
    frames = render(setlist_file(text), 8, gl, events=[ev])
    before, after = frames[4][0].astype(int), frames[6][0].astype(int)
    # saturation 0 makes the picture grey: its channels agree
    spread = lambda img: np.abs(img - img.mean(axis=2, keepdims=True)).mean()
    assert spread(before) > 2 * spread(after)


PAIR = """
[show]
size = [128, 64]
fps = 10
[[scene]]
name = "pair"
model = "{root}/models/pair-tug-of-war"
drive = "latent"
seeds = [1]
duration = "hold"
mapping = []
pair = { mode = "side_by_side", trajectory = 2 }
"""


def test_pair_scene_shows_two_generators_side_by_side_and_plays_its_trajectory(setlist_file, gl):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    frames = render(setlist_file(PAIR.replace("{root}", str(root))), 31, gl)
    snaps = [plan.jobs[0].pair[2] for _, plan in frames]
    # 2 s from the first snapshot to the last, then back (ping-pong), at 10 fps
    assert snaps[0] == 0.0 and snaps[10] == pytest.approx(0.5) and snaps[20] == pytest.approx(1.0)
    assert snaps[30] == pytest.approx(0.5)
    px = frames[20][0].astype(int)  # (64, 128, 3): A in the left half, B in the right
    left, right = px[:, :64], px[:, 64:]
    assert np.abs(left - right).mean() > 2.0  # two different generators
    # same latent, another point of the training trajectory: both halves change
    other = frames[3][0].astype(int)
    assert np.abs(other[:, :64] - left).mean() > 1.0 and np.abs(other[:, 64:] - right).mean() > 1.0


def test_pipelined_inference_in_a_child_process_gives_the_same_frames(setlist_file, gl):
    from perform.engine.inference_process import InferenceProcess

    p = setlist_file(TWO_SCENES)
    inline = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 30, gl)]
    sl = load_setlist_or_default(str(p), None, None, None)
    models = build_models(sl, "cpu")
    conductor = make_conductor(sl, models)
    timeline = EventTimeline(())
    conductor.control = timeline.control
    presenter = ChainPresenter(gl, sl.show.size, conductor, hot_reload=False)
    infer = InferenceProcess(models, device="cpu", threads=1)
    piped = []
    try:
        run_fixed(conductor, presenter, None, timeline, FixedOptions(sl.show.fps, 0, 30),
                  on_frame=lambda n, px, plan: piped.append((n, hashlib.sha256(px.tobytes()).hexdigest())), infer=infer)
    finally:
        infer.close()
        presenter.close()
    assert [n for n, _ in piped] == list(range(30))
    assert [h for _, h in piped] == inline


def test_a_new_result_is_always_uploaded_even_when_python_reuses_the_old_ones_id(setlist_file, gl):
    from perform.engine.plan import Generated

    sl = load_setlist_or_default(str(setlist_file(TWO_SCENES)), None, None, None)
    conductor = make_conductor(sl, build_models(sl, "cpu"))
    presenter = ChainPresenter(gl, sl.show.size, conductor, hot_reload=False)
    try:
        plan = conductor.step(0.0, 0, None, [])
        seen = []
        for value in (30, 220):
            gen = Generated(plan, (np.full((32, 32, 3), value, np.uint8),), 0.0, 0.0)
            seen.append(id(gen))
            presenter.draw(plan, gen, [])
            mean = presenter.read_pixels().mean()
            del gen  # the loop's newest result replaces the last one: its id is free to be reused
        assert mean > 60  # the bright image of the second result is on screen, not the dark first one
    finally:
        presenter.close()
