"""The explore window under Xvfb: keys and clicks become session actions, the grid is drawn, S saves, Esc quits."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from perform.explore.grid import layout_for
from perform.explore.window import cell_under, key_actions, window_layout

pytestmark = pytest.mark.gl

SCRIPT = textwrap.dedent("""
    import sys
    import pygame
    from perform.explore.genome import space_of
    from perform.explore.identity import identify
    from perform.explore.images import GenomePainter
    from perform.explore.session import ExploreSession
    from perform.explore.window import run_window, window_layout
    from perform.nets.model import load_model
    from perform.render.passes import fit_rect

    card = sys.argv[1]
    model = load_model(card, "cpu")
    space = space_of(model)
    session = ExploreSession(space, identify(model, card))
    painter = GenomePainter(model, space)
    saved = []
    layout = window_layout((32, 32, 3), 3, 3, (320, 240))
    x0, y0, fw, fh = fit_rect(layout.size, (320, 240))

    def centre(cell):  # where the cell's centre lies in the window once the grid is fitted into it
        x, y = layout.origin(cell)
        return (round(x0 + (x + layout.cell_w / 2) * fw / layout.size[0]), round(y0 + (y + layout.cell_h / 2) * fh / layout.size[1]))

    def key(k, text=""):
        return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=text, scancode=0)

    def click(pos, button):
        return pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button, touch=False)

    FRAMES = [
        [key(pygame.K_1, "1"), key(pygame.K_3, "3"), key(pygame.K_RETURN, "\\r")],
        [click(centre(4), 3), key(pygame.K_EQUALS, "+"), key(pygame.K_s, "s")],  # right click, middle cell: favourite
        [key(pygame.K_BACKSPACE, "\\b")],
        [click(centre(0), 1), key(pygame.K_9), key(pygame.K_9)],  # left click, first cell: picked; 9 picked, unpicked
        [],
        [key(pygame.K_ESCAPE)],
    ]
    drawn = []

    def on_frame(n):
        if n > 0:
            drawn.append(n)
        for ev in FRAMES[n]:
            pygame.event.post(ev)

    run_window(session, painter, lambda: saved.append(1) or "saved", size=(320, 240), on_frame=on_frame)
    assert drawn == [1, 2, 3, 4, 5], drawn  # it ran until Esc, frame by frame
    assert session.generations[1].picks == (0, 2), session.generations[1].picks
    assert session.current == 0 and session.picks == [0], (session.current, session.picks)
    assert session.favourites == ["1.4"] and session.strength == 0.55, (session.favourites, session.strength)
    assert saved == [1]
    assert painter.generated == 16, painter.generated  # both grids drawn; the two kept parents not drawn twice
    print("EXPLORE-WINDOW-OK")
""")


def test_keys_and_clicks_drive_the_session_in_a_real_window(xvfb_env, tiny):
    card = tiny[3]
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(card)], env=xvfb_env, capture_output=True, text=True,
                            timeout=180)
    assert "EXPLORE-WINDOW-OK" in result.stdout, result.stdout + result.stderr


def test_clicks_map_to_cells_through_the_fitted_grid():
    layout = layout_for((32, 32, 3), 3, 3, scale=2, top=20)  # 208x228 px, fitted into 320x240 at x = 51, 0
    assert layout.size == (208, 228)
    assert cell_under(layout, (320, 240), (160, 126)) == 4
    assert cell_under(layout, (320, 240), (87, 58)) == 0
    assert cell_under(layout, (320, 240), (256, 230)) == 8
    assert cell_under(layout, (320, 240), (30, 120)) is None  # the bar beside the grid
    assert cell_under(layout, (320, 240), (87, 10)) is None   # the HUD's band above the cells
    assert window_layout((32, 32, 3), 3, 3, (1024, 768)).cell_w == 224  # 7 x 32: fills 768 - the HUD band


def test_keys_name_their_actions(tiny):
    from perform.explore.session import ExploreSession

    _, space, identity, _ = tiny
    s = ExploreSession(space, identity, strength=0.5)
    assert key_actions("[3]", s, None)[0].action == {"action": "pick", "cell": 2}
    assert key_actions("space", s, None)[0].action == {"action": "breed"}
    assert key_actions("-", s, None)[0].action == {"action": "strength", "value": 0.45}
    s.apply({"action": "pick", "cell": 1})
    s.apply({"action": "pick", "cell": 5})
    assert [k.action["cell"] for k in key_actions("f", s, None)] == [1, 5]  # no cell under the pointer: the picks
    assert [k.action["cell"] for k in key_actions("f", s, 7)] == [7]
    assert key_actions("s", s, None)[0].command == "save" and key_actions("escape", s, None)[0].command == "quit"
