"""A window (or a projector, fullscreen) with an OpenGL 3.3 core context through pygame, for moderngl."""

from __future__ import annotations

import logging
import os
import time
import warnings
from typing import Callable

import moderngl

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after the variable that silences its banner)

from perform.errors import PerformError  # noqa: E402
from perform.render.context import REQUIRED_GL, collect_garbage, configure_context, load_llvm_users_first  # noqa: E402

log = logging.getLogger(__name__)

# SDL video drivers that show nothing; used only when SDL_VIDEODRIVER names them (a test harness may)
INVISIBLE_DRIVERS = ("offscreen", "dummy")
NO_SCREEN_HINT = "on a machine without a screen, run with no window: `--headless`, or `perform rehearse` without `--preview`"


class Window:
    """One window on display `display`; the engine draws to `screen` and calls `swap()` once a frame.

    Keys are only reported (`poll_events`): what `f` or `escape` mean is the engine's business. The mouse
    cursor hides once it has been still for `cursor_idle_s` (it would sit over the picture on the projector)
    and shows again when it moves; `clock` is that timer's time source.
    """

    def __init__(self, size: tuple[int, int] = (1280, 720), fullscreen: bool = False, display: int = 0,
                 vsync: bool = True, title: str = "perform", cursor_idle_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        try:
            pygame.display.init()
        except pygame.error as exc:
            raise PerformError(f"cannot open a window: no display available ({exc}); {NO_SCREEN_HINT}") from exc
        driver = pygame.display.get_driver()
        asked = os.environ.get("SDL_VIDEODRIVER", "").lower().split(",")
        if driver in INVISIBLE_DRIVERS and driver not in asked:
            # with no X11/Wayland/Cocoa display SDL falls back to a driver that draws nowhere: the show would run
            # with no picture and no error
            pygame.display.quit()
            raise PerformError(f"cannot open a window: no display available (SDL found none and fell back to its "
                               f"'{driver}' driver, which shows nothing; is DISPLAY set?); {NO_SCREEN_HINT}")
        n = pygame.display.get_num_displays()
        if not 0 <= display < n:
            pygame.display.quit()
            raise PerformError(f"display {display} does not exist; this machine has displays 0..{n - 1}")
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, REQUIRED_GL // 100)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, REQUIRED_GL % 100 // 10)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
        pygame.display.gl_set_attribute(pygame.GL_DOUBLEBUFFER, 1)
        pygame.display.set_caption(title)
        self.display = display
        self.windowed_size = (int(size[0]), int(size[1]))
        self.fullscreen = fullscreen
        load_llvm_users_first()  # before the GL driver loads (Mesa's llvmpipe under Xvfb carries LLVM)
        self.vsync = self._set_mode(vsync)
        try:
            self.ctx = moderngl.create_context(require=REQUIRED_GL)
        except Exception as exc:  # moderngl raises plain Exception when the driver offers less than 3.3 core
            pygame.display.quit()
            raise PerformError(f"the window's OpenGL context is not usable (need GL 3.3 core): {exc}") from exc
        configure_context(self.ctx)
        self._clock = clock
        self._cursor_idle_s = float(cursor_idle_s)
        self._cursor_moved_at = clock()
        self._cursor_shown = True
        self._show_cursor(not fullscreen)
        self._closed = False

    def _show_cursor(self, shown: bool) -> None:
        if shown != self._cursor_shown:
            pygame.mouse.set_visible(shown)
            self._cursor_shown = shown

    @property
    def cursor_shown(self) -> bool:
        return self._cursor_shown

    def _set_mode(self, vsync: bool) -> bool:
        flags = pygame.OPENGL | pygame.DOUBLEBUF
        # desktop-resolution fullscreen: no mode switch, so a projector does not blank while it resyncs
        size = (0, 0) if self.fullscreen else self.windowed_size
        flags |= pygame.FULLSCREEN if self.fullscreen else pygame.RESIZABLE
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                pygame.display.set_mode(size, flags, display=self.display, vsync=1 if vsync else 0)
            # pygame warns, rather than fails, when the driver has no swap interval control
            refused = [w for w in caught if "vsync" in str(w.message).lower()]
            if vsync and refused:
                log.warning("vsync is not available here (%s); running without it", refused[0].message)
                return False
            return vsync
        except pygame.error as exc:
            if not vsync:
                pygame.display.quit()
                raise PerformError(f"cannot open an OpenGL window: {exc}") from exc
            log.warning("vsync is not available here (%s); running without it", exc)
            return self._set_mode(False)

    @property
    def screen(self) -> moderngl.Framebuffer:
        """The window's framebuffer: pass it to ShaderChain.render with `size`."""
        return self.ctx.screen

    @property
    def size(self) -> tuple[int, int]:
        """The drawable size in pixels (pygame does not request high-DPI surfaces, so window size is pixels)."""
        w, h = pygame.display.get_window_size()
        return (max(int(w), 1), max(int(h), 1))

    def poll_events(self) -> list[str]:
        """Names of keys pressed since the last call ("f", "escape", "space", "ctrl+q"), and "quit".
        Also shows the cursor on motion and hides it when it has been still for cursor_idle_s."""
        names: list[str] = []
        now = self._clock()
        for event in pygame.event.get():
            if event.type == pygame.MOUSEMOTION:
                self._cursor_moved_at = now
                self._show_cursor(True)
            elif event.type in (pygame.QUIT, pygame.WINDOWCLOSE):
                names.append("quit")
            elif event.type == pygame.KEYDOWN:
                name = pygame.key.name(event.key)
                mods = event.mod
                if mods & pygame.KMOD_ALT:
                    name = "alt+" + name
                if mods & pygame.KMOD_CTRL:
                    name = "ctrl+" + name
                names.append(name)
        if self._cursor_shown and now - self._cursor_moved_at >= self._cursor_idle_s:
            self._show_cursor(False)
        return names

    def toggle_fullscreen(self) -> bool:
        """Switch between windowed and fullscreen; returns the new state (unchanged if the system refused)."""
        try:
            pygame.display.toggle_fullscreen()
        except pygame.error as exc:
            log.warning("cannot toggle fullscreen here: %s", exc)
            return self.fullscreen
        self.fullscreen = not self.fullscreen
        self._cursor_moved_at = self._clock()  # back in a window, the cursor shows until it is still again
        self._show_cursor(not self.fullscreen)
        return self.fullscreen

    def swap(self) -> None:
        """Show the frame (waits for vsync when on) and free GL objects dropped this frame, on this thread."""
        pygame.display.flip()
        collect_garbage(self.ctx)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.ctx.release()
        pygame.display.quit()

    def __enter__(self) -> "Window":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
