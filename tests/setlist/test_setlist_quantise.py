"""Quantised scene changes land on the next beat or bar line of the show's beat grid (re-phased by
/perform/beat, as a MIDI clock or Link sends it); MIDI notes and program changes trigger scenes."""

from __future__ import annotations

import pytest

from perform.control.events import ControlEvent
from perform.setlist.loader import parse_setlist
from perform.setlist.problems import SetlistError
from perform.setlist.scheduler import SceneScheduler

FPS = 100  # 10 ms frames: a change that missed its beat would show


def setlist(show_dir, scenes: str, show: str = ""):
    text = f'[show]\ntempo_bpm = 120\n{show}\n[show.defaults]\nmodel = "tiny-a"\n\n{scenes}'
    path = show_dir / "show.toml"
    path.write_text(text)
    return parse_setlist(text, path)


THREE = '''
[[scene]]
name = "a"
duration = "hold"
advance = { midi = ["note.10.36", "midi.cc.1.64"] }
[[scene]]
name = "b"
duration = "hold"
advance = { quantise = "off", midi = ["program.1.7"] }
[[scene]]
name = "c"
duration = "hold"
'''


def first_frame_in(sched, scene: int, frames, events) -> int:
    """The first frame (of `frames`) that shows scene `scene`; events: {frame: [(address, args)]}."""
    for n in frames:
        st = sched.update(n / FPS, [ControlEvent(n / FPS, a, args) for a, args in events.get(n, [])])
        if st.index == scene:
            return n
    raise AssertionError(f"scene {scene} never came")


def test_a_quantised_scene_change_lands_on_the_next_bar(show_dir):
    sched = SceneScheduler(setlist(show_dir, THREE, 'quantise = "bar"'))
    # 120 BPM, 4 beats a bar: bar lines at 0, 2, 4 s. A press at 0.3 s waits for 2.0 s.
    n = first_frame_in(sched, 1, range(0, 500), {30: [("/perform/scene/next", ())]})
    assert n == 200
    assert sched.state().scene_time_s == pytest.approx(0.0)
    # scene b says quantise = "off": its triggers act at once
    assert first_frame_in(sched, 2, range(201, 500), {250: [("/perform/scene/next", ())]}) == 250


def test_a_beat_from_the_sender_rephases_the_grid_and_the_tempo_spaces_it(show_dir):
    sched = SceneScheduler(setlist(show_dir, THREE, 'quantise = "beat"'))
    events = {
        0: [("/perform/tempo", (60.0,))],  # a beat a second
        70: [("/perform/beat", (8,))],     # the sender's beat 8 is at 0.7 s: lines at 1.7, 2.7, ...
        120: [("/perform/key/right", ())],
    }
    assert first_frame_in(sched, 1, range(0, 400), events) == 170


def test_midi_notes_ccs_and_programs_trigger_scenes(show_dir):
    sched = SceneScheduler(setlist(show_dir, THREE, "midi_scene_channel = 2"))
    run = lambda n, *evs: sched.update(n / FPS, [ControlEvent(n / FPS, a, args, "midi") for a, args in evs]).index
    assert run(0) == 0
    assert run(1, ("/perform/midi/note/10/36", (0.0,))) == 0   # a note off is no press
    assert run(2, ("/perform/midi/note/1/36", (1.0,))) == 0    # another channel
    assert run(3, ("/perform/midi/note/10/36", (0.5,))) == 1   # note on: advance
    assert run(5, ("/perform/midi/program/1", (6,))) == 1      # not the program b waits for
    assert run(6, ("/perform/midi/program/1", (7,))) == 2
    assert run(7, ("/perform/midi/program/2", (0,))) == 0      # the scene channel: program n is scene n
    assert run(8, ("/perform/midi/cc/1/64", (1.0,))) == 1      # a pedal down


def test_bad_midi_triggers_and_quantise_values_are_named(show_dir):
    bad = THREE.replace('"note.10.36"', '"note.17.36"').replace('quantise = "off"', 'quantise = "bars"')
    with pytest.raises(SetlistError) as err:
        setlist(show_dir, bad)
    text = str(err.value)
    assert "note.17.36" in text and "bars" in text
