"""The HUD draws its text over the chain's output, top-left, red for errors, only when asked."""

from __future__ import annotations

import numpy as np
import pytest

from perform.render.chain import ShaderChain
from perform.render.hud import RED, Hud, HudLine
from perform.render.passes import PassSpec

pytestmark = pytest.mark.gl


@pytest.fixture
def scene(ctx):
    chain = ShaderChain(ctx, [PassSpec("display", params={"fit": "stretch"})], (8, 8), (320, 180))
    chain.upload(np.full((8, 8, 3), 30, np.uint8))
    hud = Hud(ctx, font_size=18)
    yield chain, hud
    hud.release()
    chain.release()


def frame(chain, hud, flip_y=False):
    chain.render(0.0, 0)
    hud.draw(chain.framebuffer, flip_y=flip_y)
    return chain.read_pixels().astype(int)


def test_text_is_drawn_top_left_and_errors_are_red(scene):
    chain, hud = scene
    lines = ["59.9 fps   frame p50 12.0 ms  p95 20.5 ms", "model demo  device cpu",
             HudLine("generator: RuntimeError: boom", RED)]
    assert hud.update(lines, now_s=0.0)
    out = frame(chain, hud)
    top_left, bottom_right = out[:90, :160], out[120:, 200:]
    assert (top_left > 200).all(axis=2).any(), "no white text"
    assert ((top_left[..., 0] > 180) & (top_left[..., 1] < 110)).any(), "no red error line"
    assert (bottom_right == 30).all()
    assert (top_left < 30).all(axis=2).any()  # the dark box under the text


def test_flip_y_puts_the_hud_at_the_top_of_a_window(scene):
    chain, hud = scene
    hud.update(["hello"], now_s=0.0)
    out = frame(chain, hud, flip_y=True)  # read back bottom-up, a window shows this row order flipped
    assert (out[-40:, :100] > 200).all(axis=2).any() and (out[:40] == 30).all()


def test_rate_limit_and_toggle(scene):
    chain, hud = scene
    assert hud.update(["one"], now_s=10.0)
    assert not hud.update(["two"], now_s=10.05)  # 4 updates a second at most
    assert hud.update(["two"], now_s=10.3)
    assert hud.rasterisations == 2
    assert hud.toggle() is False
    assert (frame(chain, hud) == 30).all()
