"""The HUD: status text rasterised with pygame.font into a texture when it changes, drawn over the output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import moderngl
import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after the variable that silences its banner)
import pygame.font  # noqa: E402

from perform.render.shaders import ShaderLibrary, build_program  # noqa: E402

Colour = tuple[int, int, int]
WHITE: Colour = (235, 235, 235)
RED: Colour = (255, 70, 70)


@dataclass(frozen=True, slots=True)
class HudLine:
    text: str
    colour: Colour = WHITE


class Hud:
    """Text over the output, top-left. Re-rasterised only when the text changes, at most `max_updates_per_s`.

    Call `update(...)` every frame (a cheap comparison when nothing changed) and `draw(...)` after the chain.
    """

    def __init__(self, ctx: moderngl.Context, library: ShaderLibrary | None = None, font_size: int = 20,
                 max_updates_per_s: float = 4.0, margin_px: int = 8, visible: bool = True) -> None:
        self.ctx = ctx
        self.visible = visible
        self.margin_px = margin_px
        self.min_interval_s = 1.0 / max_updates_per_s
        pygame.font.init()  # needs no display
        self._font = pygame.font.Font(None, font_size)
        self._line_h = self._font.get_linesize()
        library = library or ShaderLibrary()
        self.program = build_program(ctx, library, "hud.frag", vertex="hud.vert")
        self.vao = ctx.vertex_array(self.program, [])
        self.sampler = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
        self.program["u_text"].value = 0
        self.program["u_opacity"].value = 1.0
        self._texture: moderngl.Texture | None = None
        self._text_size = (0, 0)
        self._shown: tuple[HudLine, ...] = ()
        self._pending: tuple[HudLine, ...] | None = None
        self._last_raster_s = -1e9
        self.rasterisations = 0

    def toggle(self) -> bool:
        self.visible = not self.visible
        return self.visible

    def update(self, lines: Sequence[HudLine | str], now_s: float) -> bool:
        """Offer new text (plain strings are white); returns True when it was rasterised now (otherwise it
        waits its turn)."""
        new = tuple(l if isinstance(l, HudLine) else HudLine(str(l)) for l in lines)
        if new == self._shown:
            self._pending = None
            return False
        self._pending = new
        if now_s - self._last_raster_s < self.min_interval_s:
            return False
        self._rasterise(new)
        self._last_raster_s = now_s
        return True

    def draw(self, fbo: moderngl.Framebuffer, size: tuple[int, int] | None = None, flip_y: bool = False) -> None:
        """Blend the text over `fbo`; `flip_y` for a window's screen (GL order), as ShaderChain.render does."""
        if not self.visible or self._texture is None or not self._shown:
            return
        w, h = size or fbo.size
        tw, th = self._text_size
        fbo.use()
        fbo.viewport = (0, 0, w, h)
        m = self.margin_px
        self.program["u_rect"].value = (-1 + 2 * m / w, -1 + 2 * m / h, 2 * tw / w, 2 * th / h)
        self.program["u_uv_scale"].value = (tw / self._texture.width, th / self._texture.height)
        self.program["u_flip_y"].value = 1.0 if flip_y else 0.0
        self._texture.use(location=0)
        self.sampler.use(location=0)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA  # premultiplied alpha
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        for obj in (self._texture, self.vao, self.program, self.sampler):
            if obj is not None:
                obj.release()
        self._texture = None

    def _rasterise(self, lines: tuple[HudLine, ...]) -> None:
        self._shown = lines
        self._pending = None
        self.rasterisations += 1
        if not lines:
            return
        pad = 6
        rendered = [self._font.render(l.text, True, l.colour) for l in lines]
        tw = max(s.get_width() for s in rendered) + 2 * pad
        th = self._line_h * len(rendered) + 2 * pad
        surface = pygame.Surface((tw, th), pygame.SRCALPHA)
        surface.fill((0, 0, 0, 150))  # a dark box keeps the text readable over any image
        for i, s in enumerate(rendered):
            surface.blit(s, (pad, pad + i * self._line_h))
        rgba = np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8).reshape(th, tw, 4)
        premul = rgba.astype(np.uint16)
        premul[..., :3] = premul[..., :3] * premul[..., 3:] // 255
        self._upload(premul.astype(np.uint8), (tw, th))

    def _upload(self, rgba: np.ndarray, size: tuple[int, int]) -> None:
        tw, th = size
        tex = self._texture
        if tex is None or tex.width < tw or tex.height < th:
            # round up so a few more characters do not reallocate again
            if tex is not None:
                tex.release()
            tex = self._texture = self.ctx.texture((-(-tw // 64) * 64, -(-th // 32) * 32), 4)
        tex.write(rgba, viewport=(0, 0, tw, th))
        self._text_size = (tw, th)
