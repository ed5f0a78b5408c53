"""A real pygame OpenGL window under Xvfb: drawing, orientation, keys, fullscreen. Skipped without Xvfb."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gl

SCRIPT = textwrap.dedent("""
    import numpy as np, pygame
    from perform.errors import PerformError
    from perform.render.chain import ShaderChain
    from perform.render.hud import Hud
    from perform.render.passes import PassSpec
    from perform.render.window import Window

    try:
        Window((64, 48), display=5)
        raise SystemExit("display 5 accepted")
    except PerformError as e:
        assert "display 5 does not exist" in str(e), e

    with Window((160, 120), vsync=True, title="perform test") as w:
        assert w.size == (160, 120), w.size
        chain = ShaderChain(w.ctx, [PassSpec("display", params={"filter": "nearest", "fit": "stretch"})], (2, 2), w.size)
        img = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 255]]], np.uint8)
        chain.upload(img)
        chain.render(0.0, 0, w.screen, w.size)
        hud = Hud(w.ctx)
        hud.update(["hud"], 0.0)
        hud.draw(w.screen, w.size, flip_y=True)
        raw = np.frombuffer(w.screen.read(viewport=(0, 0, *w.size), components=3), np.uint8).reshape(120, 160, 3)
        # GL reads bottom-up: the image's bottom-left (blue) is read first, its top-right (green) last
        assert tuple(raw[0, 0]) == (0, 0, 255), raw[0, 0]
        assert tuple(raw[-1, -1]) == (0, 255, 0), raw[-1, -1]
        assert (raw[-30:, :40] > 200).all(axis=1).any(), "HUD not at the top"
        w.swap()
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_f, mod=0))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=pygame.KMOD_LCTRL))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        keys = w.poll_events()
        assert keys == ["f", "ctrl+q", "quit"], keys
        assert w.toggle_fullscreen() is True and w.size == (320, 240), w.size
        chain.render(0.0, 1, w.screen, w.size)
        w.swap()
        assert w.toggle_fullscreen() is False and w.size == (160, 120), w.size
        hud.release()
        chain.release()
    print("WINDOW-OK")
""")


CURSOR_SCRIPT = textwrap.dedent("""
    import pygame
    from perform.render.window import Window

    now = [100.0]  # the window's clock, moved by hand: no sleeping
    with Window((160, 120), vsync=False, cursor_idle_s=2.0, clock=lambda: now[0]) as w:
        def moved():
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(20, 20), rel=(3, 1), buttons=(0, 0, 0)))

        assert w.poll_events() == [] and pygame.mouse.get_visible()
        now[0] += 1.5
        moved()
        w.poll_events()
        now[0] += 1.9
        assert w.poll_events() == [] and pygame.mouse.get_visible(), "hidden before 2 s of stillness"
        now[0] += 0.2
        w.poll_events()
        assert not pygame.mouse.get_visible() and not w.cursor_shown, "still shown after 2 s still"
        now[0] += 10.0
        w.poll_events()
        assert not pygame.mouse.get_visible()
        moved()
        w.poll_events()
        assert pygame.mouse.get_visible() and w.cursor_shown, "not shown again when moved"
    print("CURSOR-OK")
""")


def _run_in_window(script: str, marker: str, env: dict) -> None:
    # a child process: the window and its GL driver are process-global, and a driver crash must not take pytest
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert marker in result.stdout, result.stdout + result.stderr


def test_window_draws_reports_keys_and_toggles_fullscreen(xvfb_env):
    _run_in_window(SCRIPT, "WINDOW-OK", xvfb_env)


def test_the_cursor_hides_when_still_and_shows_when_moved(xvfb_env):
    _run_in_window(CURSOR_SCRIPT, "CURSOR-OK", xvfb_env)


NO_DISPLAY_SCRIPT = textwrap.dedent("""
    import pygame
    from perform.errors import PerformError
    from perform.render.window import Window

    try:
        with Window((64, 48)):
            print("OPENED", pygame.display.get_driver())
    except PerformError as e:
        print("REFUSED", e)
""")


def test_without_a_display_the_window_is_refused_not_drawn_nowhere():
    # SDL falls back to its offscreen driver when no display is reachable: a show would run with no picture
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    result = subprocess.run([sys.executable, "-c", NO_DISPLAY_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=120)
    out = next((line for line in result.stdout.splitlines() if line.startswith(("OPENED", "REFUSED"))), "")
    if out.startswith("OPENED") and out.split()[1] not in ("offscreen", "dummy"):
        pytest.skip(f"this machine has a display without DISPLAY ({out.split()[1]})")
    assert out.startswith("REFUSED"), result.stdout + result.stderr
    assert "no display available" in out and "--headless" in out, out
