"""MIDI learn: arm a target (OSC or the L key), move a control; the mapping is written into the setlist with
its comments kept, `perform check` passes it, the watcher reloads it, and the control then moves the target."""

from __future__ import annotations

import pytest

from perform.control.events import ControlEvent
from perform.control.learn import MidiLearn
from perform.control.state import ControlState
from perform.engine.conductor import Conductor, load_models, make_mapper
from perform.setlist.check import check_setlist
from perform.setlist.loader import load_setlist
from perform.setlist.scheduler import SceneScheduler
from perform.setlist.watcher import SetlistWatcher

SHOW = """# the club show: keep this comment
[show]
size = [64, 48]
[show.defaults]
model = "{models}/tiny"
drive = "latent"

[[scene]]
name = "intro"   # the quiet one
seeds = [1]
duration = "hold"
[[scene.shader]]
type = "colour_grade"
name = "grade"
params = { saturation = 1.0 }
# the face drives the first coordinate
[[scene.mapping]]
source = "face.yaw"
target = "latent.0"

[[scene]]
name = "drop"
seeds = [2]
duration = "hold"
"""
SAT = ("grade", "saturation")


def conductor_for(path, control) -> Conductor:
    sl = load_setlist(path)
    conductor = Conductor(sl, load_models(sl, "cpu"), make_mapper, SceneScheduler)
    conductor.control = control
    return conductor


def step(conductor, state, t, *events):
    for e in events:
        state.post(e)
    return conductor.step(t, 0, None, state.drain(t))


def test_learn_over_osc_writes_a_mapping_that_checks_reloads_and_plays(setlist_file):
    path = setlist_file(SHOW)
    state = ControlState(clock=lambda: 0.0)
    conductor = conductor_for(path, state)
    watcher = SetlistWatcher(path, conductor.setlist)
    learn = MidiLearn(str(path))
    try:
        plan = step(conductor, state, 0.0)
        assert SAT not in plan.layers[0].params  # the chain keeps its own value: nothing maps it yet
        arm = [ControlEvent(0.0, "/perform/learn", ("shader.grade.saturation",))]
        learn.observe(arm, conductor)
        assert learn.armed == "shader.grade.saturation" and "LEARN" in learn.hud_lines()[0]
        moved = [ControlEvent(0.1, "/perform/midi/cc/1/21", (0.25,), "midi")]
        learn.observe(moved, conductor)
        assert learn.wait_written(10.0)
    finally:
        learn.close()
    text = path.read_text()
    for kept in ("# the club show: keep this comment", "# the quiet one", "# the face drives the first coordinate"):
        assert kept in text
    assert learn.learned == [("intro", "midi.cc.1.21", "shader.grade.saturation")]
    report = check_setlist(path, timing=False)  # what `perform check` runs, shaders compiled through EGL included
    assert report.ok, [str(p) for p in report.errors]

    new = watcher.poll()  # the live show's reloader does this between frames
    assert not isinstance(new, str) and new is not None
    conductor.swap(new)
    sat = step(conductor, state, 0.2, ControlEvent(0.2, "/perform/midi/cc/1/21", (1.0,), "midi")).layers[0].params[SAT]
    for t in (0.4, 0.6, 0.8):  # the learned mapping smooths a little (50 ms)
        sat = step(conductor, state, t).layers[0].params[SAT]
    assert sat == pytest.approx(3.0, abs=1e-3)  # the control's top is the parameter's top
    yaw = load_setlist(path).scenes[0].mappings.specs[0]
    assert (yaw.source, yaw.target) == ("face.yaw", "latent.0")  # the scene's own mapping is still there

    # learning the same target again moves it to the new control instead of adding a second mapping
    learn = MidiLearn(str(path))
    try:
        learn.observe(arm, conductor)
        learn.observe([ControlEvent(1.0, "/perform/midi/note/1/60", (0.8,), "midi")], conductor)
        assert learn.wait_written(10.0)
    finally:
        learn.close()
    sources = [s.source for s in load_setlist(path).scenes[0].mappings.specs]
    assert sources == ["face.yaw", "midi.note.1.60"]


def test_the_l_key_steps_through_the_scenes_targets_and_a_scene_on_the_defaults_keeps_them(setlist_file):
    path = setlist_file(SHOW)
    state = ControlState(clock=lambda: 0.0)
    conductor = conductor_for(path, state)
    step(conductor, state, 0.0, ControlEvent(0.0, "/perform/scene/next", ()))
    assert conductor.scene_name == "drop"  # a scene with no mappings: it plays the shipped defaults
    learn = MidiLearn(str(path))
    try:
        key = [ControlEvent(0.1, "/perform/key/l", (), "key")]
        learn.observe(key, conductor)
        first = learn.armed
        assert first is not None
        learn.observe(key, conductor)
        assert learn.armed not in (None, first)  # the next target
        second = learn.armed
        learn.observe([ControlEvent(0.2, "/perform/midi/bend/3", (0.0,), "midi")], conductor)
        assert learn.wait_written(10.0)
    finally:
        learn.close()
    drop = load_setlist(path).scenes[1]
    specs = drop.mappings.specs
    assert specs[-1].source == "midi.bend.3" and specs[-1].target == second
    assert len(specs) > 1 and all(s.source.startswith(("face.", "lfo.", "time")) for s in specs[:-1])  # the defaults
    assert check_setlist(path, gl=False, timing=False).ok


def test_learn_refuses_a_target_the_scene_does_not_have(setlist_file):
    path = setlist_file(SHOW)
    state = ControlState(clock=lambda: 0.0)
    conductor = conductor_for(path, state)
    step(conductor, state, 0.0)
    before = path.read_text()
    learn = MidiLearn(str(path))
    try:
        learn.observe([ControlEvent(0.0, "/perform/learn", ("shader.blur.radius",))], conductor)
        assert learn.armed is None and "shader.blur.radius" in learn.hud_lines()[0]
        learn.observe([ControlEvent(0.1, "/perform/midi/cc/1/1", (0.5,), "midi")], conductor)
        assert learn.wait_written(5.0)
    finally:
        learn.close()
    assert path.read_text() == before
