"""The explore window: the grid drawn as one texture through a display pass (pygame + moderngl, as `perform
live` opens its window), the HUD, and the mouse, keys and OSC turned into session actions.

Main thread only: events, GL, and the model (a grid of small images is drawn in a few tens of milliseconds;
the window simply waits for it). OSC arrives on the server's own thread as events in a ControlState, drained
here between frames.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after the variable that silences its banner)

from perform.errors import ErrorReporter  # noqa: E402
from perform.explore.grid import GridLayout, compose, layout_for  # noqa: E402
from perform.explore.images import GenomePainter  # noqa: E402
from perform.explore.osc import action_of  # noqa: E402
from perform.explore.session import ActionError, ExploreSession, parse_genome_id  # noqa: E402
from perform.render.chain import ShaderChain  # noqa: E402
from perform.render.hud import RED, Hud, HudLine  # noqa: E402
from perform.render.passes import PassSpec, fit_rect  # noqa: E402  (fit_rect: the display pass's geometry, for clicks)
from perform.render.window import Window  # noqa: E402

log = logging.getLogger(__name__)

STRENGTH_STEP = 0.05
FPS = 60
HUD_BAND_PX = 76  # three HUD lines at font size 22, with its margin
KEYS_HELP = "click/1-9 pick · Enter/Space breed · Backspace back · F favourite · +/- strength · S save · Esc quit"


@dataclass(frozen=True, slots=True)
class KeyAction:
    """What one key or click asks: a session action, or the loop's own ('save', 'quit', 'hud')."""

    action: dict[str, Any] | None = None
    command: str | None = None


def key_actions(name: str, session: ExploreSession, hovered: int | None) -> list[KeyAction]:
    """The actions a key press asks for (pure: the loop applies them). Number keys pick cells 0..8; F marks
    the hovered cell, or every picked cell when the pointer is over none."""
    name = name.removeprefix("[").removesuffix("]")  # keypad keys: "[1]", "[+]"
    if name.isdigit() and name != "0":
        return [KeyAction({"action": "pick", "cell": int(name) - 1})]
    if name in ("return", "enter", "space"):
        return [KeyAction({"action": "breed"})]
    if name == "backspace":
        return [KeyAction({"action": "back"})]
    if name == "f":
        cells = [hovered] if hovered is not None else list(session.picks)
        return [KeyAction({"action": "favourite", "cell": c}) for c in cells]
    if name in ("+", "=", "-"):
        step = -STRENGTH_STEP if name == "-" else STRENGTH_STEP
        return [KeyAction({"action": "strength", "value": round(min(max(session.strength + step, 0.0), 4.0), 4)})]
    if name == "s":
        return [KeyAction(command="save")]
    if name == "h":
        return [KeyAction(command="hud")]
    if name in ("escape", "quit"):
        return [KeyAction(command="quit")]
    return []


def window_layout(image_shape: tuple[int, ...], cols: int, rows: int, size: tuple[int, int]) -> GridLayout:
    """The grid for a window of `size`: cells scaled by a whole number to about fill it, below a band for the HUD."""
    h, w = image_shape[:2]
    scale = max(1, min(size[0] // (cols * w), (size[1] - HUD_BAND_PX) // (rows * h)))
    grid_h = layout_for(image_shape, cols, rows, scale).size[1]
    # the band in grid pixels, so that once the grid is fitted to the window the text never covers a cell
    top = math.ceil(HUD_BAND_PX * grid_h / max(size[1] - HUD_BAND_PX, 1))
    return layout_for(image_shape, cols, rows, scale, top=top)


def cell_under(layout: GridLayout, window_size: tuple[int, int], pos: tuple[int, int]) -> int | None:
    """The cell under a window pixel (top-left origin), with the grid fitted (contain) and centred."""
    gw, gh = layout.size
    x, y, w, h = fit_rect((gw, gh), window_size)
    return layout.cell_at((pos[0] - x) * gw / w, (pos[1] - y) * gh / h)


def run_window(session: ExploreSession, painter: GenomePainter, save: Callable[[], str], *,
               size: tuple[int, int] = (1024, 768), fullscreen: bool = False, display: int = 0,
               events: Any = None, frames: int | None = None, title: str = "perform explore",
               on_frame: Callable[[int], None] | None = None) -> None:
    """Run the window until Esc or close (or `frames` frames). `save()` writes the lineage and says where;
    `events` is a ControlState the OSC server posts to (None: no OSC); `on_frame(n)` is called as frame n
    starts (a test posts its input events there)."""
    first = painter.paint_one(session.generation.genomes[0])
    layout = window_layout(first.shape, session.cols, session.rows, size)
    note, note_error = "pick one or more parents, then breed", False
    with Window(size, fullscreen=fullscreen, display=display, title=title) as win:
        chain = ShaderChain(win.ctx, [PassSpec("display", params={"filter": "linear", "fit": "contain"})], layout.size, win.size)
        hud = Hud(win.ctx, font_size=22)
        shown: tuple | None = None
        pacer = pygame.time.Clock()
        errors = ErrorReporter(log)
        frame, t0 = 0, time.monotonic()
        try:
            while frames is None or frame < frames:
                if on_frame is not None:
                    on_frame(frame)
                hovered = cell_under(layout, win.size, pygame.mouse.get_pos()) if pygame.mouse.get_focused() else None
                asked: list[KeyAction] = []
                for ev in pygame.event.get():
                    if ev.type in (pygame.QUIT, pygame.WINDOWCLOSE):
                        asked.append(KeyAction(command="quit"))
                    elif ev.type == pygame.KEYDOWN:
                        asked += key_actions(ev.unicode if ev.unicode in ("+", "-", "=") else pygame.key.name(ev.key),
                                             session, hovered)
                    elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button in (1, 3):
                        cell = cell_under(layout, win.size, ev.pos)
                        if cell is not None:
                            asked.append(KeyAction({"action": "pick" if ev.button == 1 else "favourite", "cell": cell}))
                if events is not None:
                    for e in events.drain(events.now()):
                        a = action_of(e)
                        if a is not None:
                            asked.append(KeyAction(command="save") if a["action"] == "save" else KeyAction(a))
                quit_now = False
                for k in asked:
                    try:
                        if k.action is not None:
                            note, note_error = session.apply(k.action), False
                        elif k.command == "save":
                            note, note_error = save(), False
                        elif k.command == "hud":
                            hud.toggle()
                        elif k.command == "quit":
                            quit_now = True
                    except (ActionError, OSError) as e:  # a wrong key is a note on screen, never an end
                        note, note_error = str(e), True
                if quit_now:
                    break
                state = (session.current, tuple(session.picks), tuple(session.favourites))
                if state != shown:
                    shown = state
                    try:
                        chain.upload(grid_image(session, painter, layout))
                    except Exception as e:  # the model failed (out of memory, ...): say so, keep the last grid up
                        errors.report("drawing the grid", e)
                        note, note_error = f"cannot draw this generation: {type(e).__name__}: {e}", True
                hud.update(_hud_lines(session, note, note_error), time.monotonic() - t0)
                win.ctx.clear(0.0, 0.0, 0.0)
                chain.render(time.monotonic() - t0, frame, win.screen, win.size)
                hud.draw(win.screen, win.size, flip_y=True)
                win.swap()
                pacer.tick(FPS)  # without vsync the loop would spin a core for a picture that rarely changes
                frame += 1
        finally:
            hud.release()
            chain.release()


def grid_image(session: ExploreSession, painter: GenomePainter, layout: GridLayout, labels: bool = True) -> np.ndarray:
    """The current generation as the window shows it: picks framed, favourites marked."""
    gen = session.generation
    favs = [parse_genome_id(f)[1] for f in session.favourites if parse_genome_id(f)[0] == gen.id]
    return compose(painter.paint(gen.genomes), layout, session.picks, favs, labels=labels)


def _hud_lines(session: ExploreSession, note: str, error: bool) -> list[HudLine]:
    gen = session.generation
    src = "" if gen.parent is None else f" (from {gen.parent})"
    return [HudLine(f"generation {gen.id}{src} · strength {session.strength:.2f} · "
                     f"picked {len(session.picks)} · favourites {len(session.favourites)}"),
            HudLine(note, RED) if error else HudLine(note),
            HudLine(KEYS_HELP)]
