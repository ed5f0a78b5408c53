"""The presenter's HUD shows the shader errors there are now: one fixed on disk leaves it after hot reload."""

from __future__ import annotations

import os
import shutil
import time

import pytest

import perform.engine.presenter as presenter_module
from perform.engine.conductor import Conductor, load_models, make_mapper
from perform.engine.plan import FramePlan
from perform.engine.presenter import ChainPresenter
from perform.render.hud import Hud
from perform.render.shaders import find_shader_dir
from perform.setlist.loader import load_setlist
from perform.setlist.scheduler import SceneScheduler
from tests.engine.shows import one_scene

pytestmark = pytest.mark.gl

SHOW = one_scene(size="[64, 64]", drive=None, saturation=0.5)


def _touch_newer(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns + 1_000_000_000, time.time_ns())))


def test_a_shader_fixed_on_disk_leaves_the_hud_after_hot_reload(setlist_file, gl, tmp_path, monkeypatch):
    shaders = tmp_path / "shaders"
    shutil.copytree(find_shader_dir(), shaders)
    monkeypatch.setenv("PERFORM_SHADER_DIR", str(shaders))
    monkeypatch.setattr(presenter_module, "SHADER_POLL_S", 0.0)  # poll on every draw: no waiting in a test
    offered: list[list[str]] = []  # what the presenter hands the HUD, frame by frame
    real_update = Hud.update

    def update(self, lines, now_s):
        offered.append([str(getattr(line, "text", line)) for line in lines])
        return real_update(self, lines, now_s)

    monkeypatch.setattr(Hud, "update", update)
    sl = load_setlist(setlist_file(SHOW))
    conductor = Conductor(sl, load_models(sl, "cpu"), make_mapper, SceneScheduler)
    presenter = ChainPresenter(gl, (64, 64), conductor)
    plan = FramePlan(0, 0.0, (), (), blackout=True)
    frag = shaders / "colour_grade.frag"
    good = frag.read_text()

    def errors_shown() -> list[str]:
        presenter.draw(plan, None, ["scene 1/1: only"])  # polls the shader files after drawing
        presenter.draw(plan, None, ["scene 1/1: only"])  # this frame shows what that poll found
        return [line for line in offered[-1] if line.startswith("shader error")]

    try:
        assert errors_shown() == []
        frag.write_text(good + "\nthis is not GLSL\n")
        _touch_newer(frag)
        shown = errors_shown()
        assert len(shown) == 1 and "colour_grade.frag" in shown[0]
        frag.write_text(good)
        _touch_newer(frag)
        assert errors_shown() == []  # fixed: gone from the HUD
        assert presenter.shader_errors_seen == 1  # and still counted for the status file
    finally:
        presenter.close()
