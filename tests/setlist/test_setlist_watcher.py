"""Hot reload: a good edit gives a new setlist, a broken one an error while the last good one stays."""

from __future__ import annotations

import os

from perform.setlist.scheduler import SceneScheduler
from perform.setlist.watcher import SetlistWatcher

TEXT = '''
[show]
tempo_bpm = 120
[[scene]]
name = "a"
model = "tiny-a"
duration = 10
mapping = "maps.toml"
[[scene]]
name = "b"
model = "tiny-a"
duration = "hold"
'''
MAPS = '[[mapping]]\nsource = "face.yaw"\ntarget = "latent.0"\n'


def rewrite(path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a coarse-mtime filesystem still sees the change


def test_edit_then_syntax_error_keeps_last_good(show_dir):
    path = show_dir / "show.toml"
    path.write_text(TEXT)
    (show_dir / "maps.toml").write_text(MAPS)
    w = SetlistWatcher(path)
    assert w.poll() is None and w.error is None

    rewrite(path, TEXT.replace("tempo_bpm = 120", "tempo_bpm = 90"))
    new = w.poll()
    assert new is not None and not isinstance(new, str) and new.show.tempo_bpm == 90
    assert w.setlist is new and w.poll() is None

    rewrite(path, TEXT.replace('name = "b"', 'name = "b'))
    err = w.poll()
    assert isinstance(err, str) and "syntax" in err and "show.toml" in err
    assert w.setlist is new and w.error == err
    assert w.poll() is None and w.error == err  # still reported until fixed

    rewrite(path, TEXT.replace("duration = 10", "duration = -1"))
    err2 = w.poll()
    assert isinstance(err2, str) and "scene[0].duration" in err2 and w.setlist is new

    rewrite(path, TEXT.replace('name = "b"', 'name = "c"'))
    fixed = w.poll()
    assert fixed is not None and not isinstance(fixed, str) and fixed.names == ("a", "c") and w.error is None


def test_touch_without_change_is_not_a_reload(show_dir):
    path = show_dir / "show.toml"
    path.write_text(TEXT)
    (show_dir / "maps.toml").write_text(MAPS)
    w = SetlistWatcher(path)
    rewrite(path, TEXT)
    assert w.poll() is None


def test_mapping_file_edit_reloads_and_is_validated(show_dir):
    path = show_dir / "show.toml"
    path.write_text(TEXT)
    maps = show_dir / "maps.toml"
    maps.write_text(MAPS)
    w = SetlistWatcher(path)
    rewrite(maps, MAPS.replace("face.yaw", "face.pitch"))
    new = w.poll()
    assert not isinstance(new, str) and new.scenes[0].mappings.specs[0].source == "face.pitch"
    rewrite(maps, MAPS.replace("face.yaw", "face.nose"))
    err = w.poll()
    assert "maps.toml [[mapping]] #1" in err and "'nose'" in err


def test_validator_rejects_and_swap_keeps_scene(show_dir):
    path = show_dir / "show.toml"
    path.write_text(TEXT)
    (show_dir / "maps.toml").write_text(MAPS)
    w = SetlistWatcher(path, validate=lambda sl: ["no scene b"] if "b" not in sl.names else [])
    sched = SceneScheduler(w.setlist)
    for n in range(0, 400, 10):
        sched.update(n / 30)
    assert sched.state().index == 1
    rewrite(path, TEXT.replace('name = "b"', 'name = "z"'))
    assert w.poll() == "no scene b"
    rewrite(path, '[[scene]]\nname = "intro"\nmodel = "tiny-a"\nduration = "hold"\n' + TEXT)
    new = w.poll()
    sched.swap(new)
    st = sched.update(400 / 30)
    assert st.name == "b" and st.index == 2 and abs(st.scene_time_s - (400 / 30 - 10)) < 1e-9
