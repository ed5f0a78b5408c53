"""SceneScheduler on a fixed clock: frame-exact transitions, triggers, tempo, hot swap."""

from __future__ import annotations

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.setlist.keyframes import keyframe_latents
from perform.setlist.loader import parse_setlist
from perform.setlist.scheduler import SceneScheduler

FPS = 30


def setlist(show_dir, scenes: str, show: str = ""):
    text = f'[show]\ntempo_bpm = 120\n{show}\n[show.defaults]\nmodel = "tiny-a"\n\n{scenes}'
    path = show_dir / "show.toml"
    path.write_text(text)
    return parse_setlist(text, path)


def run(sched, frames, events=None):
    """States at frames n/FPS; events: {frame: [(address, args)]}, stamped at the frame's time."""
    events = events or {}
    out = []
    for n in frames:
        evs = [ControlEvent(n / FPS, a, args) for a, args in events.get(n, [])]
        out.append(sched.update(n / FPS, evs))
    return out


TWO = '''
[[scene]]
name = "a"
duration = 2
transition = { kind = "crossfade", seconds = 2 }
[[scene]]
name = "b"
duration = "hold"
'''


def test_crossfade_progress_spans_exactly_the_transition_frames(show_dir):
    states = run(SceneScheduler(setlist(show_dir, TWO)), range(0, 150))
    for n, st in enumerate(states):
        if n < 60:
            assert st.index == 0 and st.transition is None
        elif n < 120:
            assert st.index == 1 and st.transition is not None, n
            assert st.transition.kind == "crossfade" and st.transition.from_index == 0
            assert st.transition.progress == pytest.approx((n - 60) / 60, abs=1e-9)
            assert st.scene_time_s == pytest.approx((n - 60) / FPS)
            assert st.from_scene_time_s == pytest.approx(n / FPS)
        else:
            assert st.index == 1 and st.transition is None
    assert not states[-1].finished


def test_osc_trigger_during_hold_advances_at_that_frame(show_dir):
    sl = setlist(show_dir, '''
[[scene]]
name = "intro"
duration = "hold"
[[scene]]
name = "main"
duration = "hold"
''')
    states = run(SceneScheduler(sl), range(0, 200), {137: [("/perform/scene/next", (1.0,))]})
    assert [s.index for s in states[:137]] == [0] * 137
    assert states[137].index == 1 and states[137].scene_time_s == 0.0
    assert all(s.index == 1 for s in states[137:])


def test_release_and_unknown_go_are_ignored(show_dir):
    sched = SceneScheduler(setlist(show_dir, TWO.replace("duration = 2", 'duration = "hold"')))
    st = run(sched, [0, 1, 2], {1: [("/perform/scene/next", (0,))], 2: [("/perform/scene/go", ("nope",))]})
    assert [s.index for s in st] == [0, 0, 0]
    assert "nope" in st[-1].note


def test_latent_transition_reports_eased_progress(show_dir):
    sl = setlist(show_dir, '''
[[scene]]
name = "a"
seeds = [1]
duration = 1
transition = { kind = "latent", seconds = 1, curve = "smoothstep" }
[[scene]]
name = "b"
seeds = [2]
duration = 5
''')
    sched = SceneScheduler(sl)
    states = run(sched, range(0, 70))
    mid = states[45]
    assert mid.transition.kind == "latent"
    assert mid.transition.linear == pytest.approx(0.5)
    assert mid.transition.progress == pytest.approx(0.5)
    q = states[37].transition
    assert q.linear == pytest.approx(7 / 30) and q.progress == pytest.approx(3 * q.linear**2 - 2 * q.linear**3)


def test_seeds_are_deterministic_and_distinct(show_dir):
    sl = setlist(show_dir, '[[scene]]\nname = "a"\nseeds = [4, 5]\nduration = 1\n')
    a = keyframe_latents(sl.scenes[0], 8)
    b = keyframe_latents(sl.scenes[0], 8)
    assert a.shape == (2, 8) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.allclose(a[0], a[1])
    assert np.array_equal(a[0], np.random.default_rng(4).standard_normal(8).astype(np.float32))


def test_beats_follow_tempo_changes(show_dir):
    sl = setlist(show_dir, '''
[[scene]]
name = "a"
duration = { beats = 8 }
[[scene]]
name = "b"
duration = "hold"
''')
    # 120 BPM: 4 beats in the first 2 s; then 60 BPM: 4 more beats take 4 s -> change at 6 s (frame 180)
    states = run(SceneScheduler(sl), range(0, 200), {60: [("/perform/tempo", (60.0,))]})
    assert states[179].index == 0 and states[180].index == 1
    assert states[179].scene_beats == pytest.approx(8 - 1 / FPS)


def test_keys_time_cue_and_advance_triggers(show_dir):
    sl = setlist(show_dir, '''
[[scene]]
name = "a"
duration = "hold"
advance = { keys = ["n"], osc = ["/cue/go"] }
[[scene]]
name = "b"
duration = "hold"
advance = { at = 10.0 }
[[scene]]
name = "c"
duration = "hold"
''')
    st = run(SceneScheduler(sl), range(0, 400), {
        30: [("/perform/key/n", ())], 60: [("/perform/key/left", ())], 90: [("/cue/go", ())],
        120: [("/perform/key/3", ())], 150: [("/perform/scene/go", ("b",))]})
    idx = [s.index for s in st]
    assert idx[29] == 0 and idx[30] == 1 and idx[60] == 0 and idx[90] == 1 and idx[120] == 2 and idx[150] == 1
    assert idx[299] == 1 and idx[300] == 2  # at = 10 s


def test_trigger_during_transition_finishes_it_first(show_dir):
    sl = setlist(show_dir, '''
[[scene]]
name = "a"
duration = "hold"
transition = { kind = "crossfade", seconds = 2 }
[[scene]]
name = "b"
duration = "hold"
transition = { kind = "crossfade", seconds = 1 }
[[scene]]
name = "c"
duration = "hold"
''')
    st = run(SceneScheduler(sl), range(0, 40), {0: [("/perform/scene/next", ())], 15: [("/perform/scene/next", ())]})
    assert st[14].transition.from_index == 0 and st[14].index == 1
    assert st[15].index == 2 and st[15].transition.from_index == 1 and st[15].transition.progress == 0.0


def test_end_of_show_holds_on_last_scene(show_dir):
    sl = setlist(show_dir, '[[scene]]\nname = "a"\nduration = 1\n[[scene]]\nname = "b"\nduration = 1\n')
    assert sl.total_s() == pytest.approx(2.0)
    st = run(SceneScheduler(sl), range(0, 90))
    assert not st[59].finished and st[60].finished
    assert st[89].index == 1 and st[89].scene_time_s == pytest.approx((89 - 30) / FPS)


def test_swap_keeps_scene_by_name_and_time(show_dir):
    sl = setlist(show_dir, TWO.replace("duration = 2", "duration = 10"))
    sched = SceneScheduler(sl)
    run(sched, range(0, 91))
    edited = setlist(show_dir, '[[scene]]\nname = "new"\nduration = 1\n' + TWO.replace("duration = 2", "duration = 10"))
    sched.swap(edited)
    st = sched.update(91 / FPS)
    assert st.index == 1 and st.name == "a" and st.scene_time_s == pytest.approx(91 / FPS)
