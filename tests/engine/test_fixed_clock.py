"""The fixed clock end to end: setlist -> conductor -> model -> shader chain -> pixels, frame-exact."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from perform.control.events import ControlEvent

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


def test_same_inputs_give_identical_frames(setlist_file, render):
    p = setlist_file(TWO_SCENES)
    a = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 40)]
    b = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 40)]
    assert a == b
    assert len(set(a)) > 1  # and they are not all the same picture


def test_crossfade_moves_from_a_to_b_across_exactly_its_frames(setlist_file, render):
    frames = render(setlist_file(TWO_SCENES), 40)
    fades = [plan.fade if len(plan.jobs) == 2 else None for _, plan in frames]
    # scene a lasts 1 s at 10 fps: frames 0..9; the 2 s crossfade covers frames 10..29
    assert all(f is None for f in fades[:10])
    assert all(f is not None for f in fades[11:30])
    assert all(f is None for f in fades[30:])
    inner = [f for f in fades[10:30] if f is not None]
    assert inner == sorted(inner) and inner[0] < 0.1 and inner[-1] > 0.9
    # and on screen: every frame of it a step of the way from a's picture to b's (both scenes share a chain)
    assert_fades(frames, 10, 30, reference_a=9, reference_b=35)


def assert_fades(frames, first: int, end: int, reference_a: int, reference_b: int, between: bool = True) -> None:
    """Frames first..end (end: the first after the transition) go from scene a's picture to b's, a step of the
    way each frame: distance to a's picture rising, to b's falling, no frame carrying a cut (more than three
    frames' share of the change), none standing still; `between`: each lies between the two pictures."""
    a = frames[reference_a][0].astype(float)
    b = frames[reference_b][0].astype(float)
    total = np.abs(a - b).mean()
    assert total > 1.0, "the two scenes must look different"
    d_a = np.array([np.abs(frames[n][0] - a).mean() for n in range(first, end + 1)]) / total
    d_b = np.array([np.abs(frames[n][0] - b).mean() for n in range(first, end + 1)]) / total
    assert d_a[0] < 0.05 and d_b[-1] < 0.05, (d_a, d_b)  # it starts on a and ends on b
    share = 1.0 / (end - first)  # each frame's share of the change, were it even
    for d in (np.diff(d_a), -np.diff(d_b)):
        assert d.max() <= 3 * share, f"a cut: one frame carries {d.max():.2f} of the change ({d_a.round(2)})"
        assert d.min() > 0.1 * share, f"a frozen frame: {d.min():.3f} of the change ({d_a.round(2)})"
    if between:  # per pixel, a mix of a and b is as far from a as it is near b
        assert np.all(d_a + d_b < 1.05), (d_a + d_b).round(3)


SHOW_AB = """
[show]
size = [96, 64]
fps = 10
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
model = "MODEL_A"
seeds = [1]
duration = 0.5
transition = { kind = "KIND", seconds = 1.5 }
mapping = []
SHADERS_A
[[scene]]
name = "b"
seeds = [2]
duration = "hold"
mapping = []
SHADERS_B
"""
GRADE = '[[scene.shader]]\ntype = "colour_grade"\nname = "grade"\nparams = { hue_shift = 90.0, saturation = 1.5 }'
TRAILS = '[[scene.shader]]\ntype = "feedback"\nname = "trails"\nparams = { decay = 0.5 }'
KALEIDO = '[[scene.shader]]\ntype = "kaleidoscope"\nname = "kaleido"\nparams = { segments = 6 }'


@pytest.mark.parametrize("kind, model_a, shaders_a, shaders_b", [
    ("crossfade", "{models}/tiny", TRAILS, TRAILS),  # the same chain, with state: each scene its own copy
    ("crossfade", "{models}/tiny-b", "", ""),  # two models, one chain
    ("crossfade", "{models}/tiny", GRADE, KALEIDO),  # two chains
    ("latent", "{models}/tiny", GRADE + "\n" + TRAILS, KALEIDO),  # the demo's drift -> kaleido: one image, two chains
    ("crossfade", "{root}/models/pair-tug-of-war", "", KALEIDO),  # a pair side by side (2:1) to one image (1:1)
], ids=["same-chain", "two-models", "two-chains", "latent-two-chains", "pair-to-image"])
def test_a_transition_fades_what_the_audience_sees_over_its_whole_length(setlist_file, render, kind, model_a,
                                                                        shaders_a, shaders_b):
    from pathlib import Path

    text = (SHOW_AB.replace("KIND", kind).replace("MODEL_A", model_a).replace("SHADERS_A", shaders_a)
            .replace("SHADERS_B", shaders_b).replace("{root}", str(Path(__file__).resolve().parents[2])))
    if "pair" in model_a:
        text = text.replace("mapping = []\n", 'mapping = []\npair = { mode = "side_by_side" }\n', 1)
    frames = render(setlist_file(text), 24)
    # a: frames 0..4; the transition: 5..19 (at 5 it has not moved yet); b from 20
    assert [p.scene for _, p in frames[4:6]] == ["a", "b"]
    assert all(len(p.layers) == 2 for _, p in frames[6:20]) and len(frames[20][1].layers) == 1
    assert_fades(frames, 5, 20, reference_a=4, reference_b=22, between=kind == "crossfade")
    if kind == "latent":  # one image, on intermediate latents
        za, zb, mid = frames[4][1].jobs[0].latent, frames[22][1].jobs[0].latent, frames[12][1]
        assert len(mid.jobs) == 1
        z = mid.jobs[0].latent
        assert np.linalg.norm(z - za) < np.linalg.norm(zb - za) and np.linalg.norm(z - zb) < np.linalg.norm(zb - za)


def test_osc_trigger_during_hold_advances_at_that_frame(setlist_file, render):
    text = TWO_SCENES.replace('duration = 1\ntransition = { kind = "crossfade", seconds = 2 }', 'duration = "hold"')
    ev = ControlEvent(1.25, "/perform/scene/next", (), "replay")  # frame 12.5 at 10 fps -> due at frame 13
    frames = render(setlist_file(text), 20, events=[ev])
    scenes = [plan.scene for _, plan in frames]
    assert scenes[:13] == ["a"] * 13
    assert scenes[13:] == ["b"] * 7


def test_latent_transition_passes_through_intermediate_latents(setlist_file, render):
    text = TWO_SCENES.replace('kind = "crossfade"', 'kind = "latent"')
    frames = render(setlist_file(text), 40)
    za, zb = frames[5][1].jobs[0].latent, frames[35][1].jobs[0].latent
    mid = frames[20][1]
    assert len(mid.jobs) == 1  # one image: the latent moves, not the pixels
    z = mid.jobs[0].latent
    assert not np.allclose(z, za) and not np.allclose(z, zb)
    # on the way: closer to both ends than they are to each other
    assert np.linalg.norm(z - za) < np.linalg.norm(zb - za) and np.linalg.norm(z - zb) < np.linalg.norm(zb - za)


def test_osc_shader_parameter_event_changes_pixels(setlist_file, render):
    text = TWO_SCENES.replace('mapping = []\n[[scene]]', 'mapping = []\n[[scene.shader]]\ntype = "colour_grade"\nname = "grade"\n[[scene]]', 1)
    ev = ControlEvent(0.5, "/perform/shader/grade/saturation", (0.0,), "replay")
    frames = render(setlist_file(text), 8, events=[ev])
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


def test_pair_scene_shows_two_generators_side_by_side_and_plays_its_trajectory(setlist_file, render):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    frames = render(setlist_file(PAIR.replace("{root}", str(root))), 31)
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


def test_pipelined_inference_in_a_child_process_gives_the_same_frames(setlist_file, render):
    p = setlist_file(TWO_SCENES)
    inline = [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in render(p, 30)]
    piped = render(p, 30, pipelined=True)
    assert [plan.index for _, plan in piped] == list(range(30))
    assert [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in piped] == inline


def test_a_new_result_is_always_uploaded_even_when_python_reuses_the_old_ones_id(setlist_file, staged):
    from perform.engine.plan import Generated

    show, presenter = staged(setlist_file(TWO_SCENES), hot_reload=False)
    conductor = show.conductor
    plan = conductor.step(0.0, 0, None, [])
    seen = []
    for value in (30, 220):
        gen = Generated(plan, (np.full((32, 32, 3), value, np.uint8),), 0.0, 0.0)
        seen.append(id(gen))
        presenter.draw(plan, gen, [])
        mean = presenter.read_pixels().mean()
        del gen  # the loop's newest result replaces the last one: its id is free to be reused
    assert mean > 60  # the bright image of the second result is on screen, not the dark first one


def test_the_live_clock_draws_each_scene_with_its_own_image_from_an_older_result(setlist_file, staged):
    """The live clock draws the newest plan with the newest result, which may come from an earlier plan: once a
    crossfade is over, scene b shows b's image from the last crossfade result, not a's."""
    from perform.engine.plan import Generated

    show, presenter = staged(setlist_file(TWO_SCENES), hot_reload=False)
    conductor = show.conductor
    conductor.step(0.0, 0, None, [])  # the show starts
    during = conductor.step(1.5, 15, None, [])
    after = conductor.step(3.5, 35, None, [])
    assert [layer.scene for layer in during.layers] == ["a", "b"] and [l.scene for l in after.layers] == ["b"]
    dark, bright = np.full((32, 32, 3), 30, np.uint8), np.full((32, 32, 3), 220, np.uint8)
    presenter.draw(after, Generated(during, (dark, bright), 0.0, 0.0), [])
    assert presenter.read_pixels().max() == 220  # b's bright image, not a's dark one
