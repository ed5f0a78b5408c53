"""The frame outputs get: what the audience sees, without the HUD drawn over it."""

from __future__ import annotations

import numpy as np
import pytest

from perform.engine.plan import generate
from tests.engine.shows import one_scene

pytestmark = pytest.mark.gl

SHOW = one_scene(drive="latent", saturation=None)


def test_outputs_take_the_frame_before_the_hud(setlist_file, staged):
    show, presenter = staged(setlist_file(SHOW), hot_reload=False)
    plan = show.conductor.step(0.0, 0, None, [], "ok")
    gen = generate(plan, show.models)
    presenter.draw(plan, gen, [])
    clean = presenter.read_pixels().copy()
    assert presenter.take_frame() is None  # capture is off unless outputs ask for it
    presenter.capture = True
    presenter.draw(plan, gen, ["HUD TEXT OVER THE PICTURE", "more"])
    with_hud = presenter.read_pixels().copy()
    frame = presenter.take_frame()
    assert not np.array_equal(with_hud, clean)  # the HUD is on the window's picture
    assert np.array_equal(frame, clean)  # and not on the outputs'
    assert presenter.take_frame() is None  # each frame is taken once
