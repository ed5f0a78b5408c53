"""The presenter: draws a FramePlan with the newest generated images through the scenes' shader chains.

Owns every GL object of the show (created before the show, released at the end; nothing per frame) and
runs only on the main thread. Headless it renders into its own framebuffer for read_pixels; with a window
it draws to the screen.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import moderngl
import numpy as np

from perform.engine.plan import FramePlan, Generated
from perform.errors import ErrorReporter, PerformError
from perform.render.chain import ShaderChain
from perform.render.context import collect_garbage
from perform.render.passes import CrossfadePass, DisplayPass, PassSpec, create_pass
from perform.render.shaders import ShaderLibrary

log = logging.getLogger(__name__)

SHADER_POLL_S = 0.5  # hot reload: how often shader files are checked (never per frame)


def pass_specs(shaders: Any) -> list[PassSpec]:
    """Setlist ShaderSpecs (type, name, params) -> render PassSpecs."""
    return [PassSpec(s.type, s.name, dict(s.params)) for s in shaders]


class ChainPresenter:
    """Draws plans; one ShaderChain per distinct scene chain (conductor.chains()), compiled up front."""

    def __init__(self, ctx: moderngl.Context, out_size: tuple[int, int], conductor: Any, window: Any = None,
                 reporter: ErrorReporter | None = None, hot_reload: bool = True) -> None:
        self.ctx = ctx
        self.out_size = tuple(out_size)
        self.window = window
        self.conductor = conductor
        self.reporter = reporter or ErrorReporter(log)
        self.hot_reload = hot_reload
        self.chains: dict[str, ShaderChain] = {}
        self._library = ShaderLibrary()
        # image-order output framebuffer: the composite of a crossfade, and what read_pixels reads
        self._out_tex = ctx.texture(self.out_size, 4)
        self._out_fbo = ctx.framebuffer(color_attachments=[self._out_tex])
        self._readback = np.empty((self.out_size[1], self.out_size[0], 3), np.uint8)
        self._fade: CrossfadePass = create_pass(ctx, self._library, PassSpec("crossfade", "scene-fade"))  # type: ignore[assignment]
        self._present: DisplayPass = create_pass(ctx, self._library, PassSpec("display", "present", {"filter": "nearest", "fit": "stretch"}))  # type: ignore[assignment]
        self._hud = None
        # the result each (chain, layer) last uploaded, held so its id cannot be reused by a newer one
        self._uploaded: dict[tuple[str, int], Generated] = {}
        self._next_poll = 0.0
        self.shader_errors: list[str] = []
        self.sync(conductor.chains())

    # -- setup -----------------------------------------------------------------------------------------------
    def sync(self, chains: Mapping[str, Any]) -> None:
        """Compile chains that are new (after a hot reload), release those no longer used."""
        model = next(iter(self.conductor.models.values()))
        h, w = model.resolution, model.resolution  # the chain's source slots resize to what arrives
        for key, shaders in chains.items():
            if key not in self.chains:
                self.chains[key] = ShaderChain(self.ctx, pass_specs(shaders), (w, h), self.out_size)
        for key in list(self.chains):
            if key not in chains:
                self.chains.pop(key).release()

    def _ensure_hud(self):
        if self._hud is None:
            from perform.render.hud import Hud

            self._hud = Hud(self.ctx, library=self._library)
        return self._hud

    # -- per frame -------------------------------------------------------------------------------------------
    def draw(self, plan: FramePlan, generated: Generated | None, hud_lines: list[str]) -> None:
        ctx = self.ctx
        screen = self.window is not None
        target = ctx.screen if screen else self._out_fbo
        if plan.blackout or generated is None:
            target.use()
            target.clear(0.0, 0.0, 0.0, 1.0)
        else:
            chains = [self.chains[k] for k in plan.layers]
            for i, key in enumerate(plan.layers):
                chain = self.chains[key]
                # the image for layer i: from the result if it planned the same layers, else its first image
                images = generated.images
                img = images[i] if i < len(images) else images[0]
                if self._uploaded.get((key, i)) is not generated:
                    if img.ndim == 4:  # a pair side by side: generator A to slot 0, B to slot 1
                        chain.upload(img[0], slot=0)
                        chain.upload(img[1], slot=1)
                    else:
                        chain.upload(img, slot=0)
                    self._uploaded[(key, i)] = generated
                for (pass_name, param), value in plan.shader_params.get(key, {}).items():
                    try:
                        chain.set_param(pass_name, param, value)
                    except PerformError as exc:
                        self.reporter.report("shader parameter", exc)
            flip = screen  # the output framebuffer is in image order; a window's screen is bottom-up
            if len(chains) == 1 or plan.fade <= 0.0 or plan.fade >= 1.0:
                chain = chains[-1] if plan.fade >= 1.0 else chains[0]
                chain.render(plan.t_s, plan.index, target=target, flip_y=flip)
            else:
                a, b = chains[0], chains[1]
                a.render(plan.t_s, plan.index)
                b.render(plan.t_s, plan.index)
                self._fade.set("mix", float(plan.fade))
                self._fade.draw(self._out_fbo, [a.framebuffer.color_attachments[0], b.framebuffer.color_attachments[0]],
                                plan.t_s, plan.index, self.out_size)
                if screen:
                    self._present.flip_y = True
                    self._present.draw(ctx.screen, [self._out_tex], plan.t_s, plan.index, ctx.screen.size)
        if hud_lines:
            hud = self._ensure_hud()
            hud.update(hud_lines + [f"shader error: {e.splitlines()[0][:100]}" for e in self.shader_errors[-2:]],
                       time.perf_counter())
            hud.draw(target, flip_y=screen)
        if self.hot_reload:
            self._poll_shaders()

    def _poll_shaders(self) -> None:
        now = time.perf_counter()
        if now < self._next_poll:
            return
        self._next_poll = now + SHADER_POLL_S
        for chain in self.chains.values():
            for err in chain.poll_shaders():
                self.shader_errors.append(str(err))

    def present(self) -> list[str]:
        collect_garbage(self.ctx)
        if self.window is not None:
            self.window.swap()
            return self.window.poll_events()
        return []

    def toggle_fullscreen(self) -> None:
        if self.window is not None:
            self.window.toggle_fullscreen()

    def read_pixels(self) -> np.ndarray:
        """The frame just drawn, (H, W, 3) uint8, top row first (headless)."""
        self._out_fbo.read_into(self._readback, components=3, alignment=1)
        return self._readback

    def close(self) -> None:
        for chain in self.chains.values():
            chain.release()
        self.chains.clear()
        for obj in (self._fade, self._present):
            obj.release()
        if self._hud is not None:
            self._hud.release()
        self._out_fbo.release()
        self._out_tex.release()
