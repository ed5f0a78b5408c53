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

from perform.engine.plan import FramePlan, Generated, Layer
from perform.errors import ErrorReporter, PerformError
from perform.render.chain import ShaderChain
from perform.render.context import collect_garbage
from perform.render.passes import PassSpec
from perform.render.shaders import ShaderLibrary

log = logging.getLogger(__name__)

SHADER_POLL_S = 0.5  # hot reload: how often shader files are checked (never per frame)


def pass_specs(shaders: Any) -> list[PassSpec]:
    """Setlist ShaderSpecs (type, name, params) -> render PassSpecs."""
    return [PassSpec(s.type, s.name, dict(s.params)) for s in shaders]


class ChainPresenter:
    """Draws plans through the scenes' shader chains, compiled up front: one ShaderChain per distinct chain
    (conductor.chains()), and a second copy of those that two scenes share, so a transition between them
    draws both (each scene on its own copy; conductor.chain_copies())."""

    def __init__(self, ctx: moderngl.Context, out_size: tuple[int, int], conductor: Any, window: Any = None,
                 reporter: ErrorReporter | None = None, hot_reload: bool = True) -> None:
        self.ctx = ctx
        self.out_size = tuple(out_size)
        self.window = window
        self.conductor = conductor
        self.reporter = reporter or ErrorReporter(log)
        self.hot_reload = hot_reload
        self.chains: dict[str, list[ShaderChain]] = {}  # chain key -> its copies
        self._library = ShaderLibrary()
        # image-order output framebuffer: what read_pixels reads (headless)
        self._out_tex = ctx.texture(self.out_size, 4)
        self._out_fbo = ctx.framebuffer(color_attachments=[self._out_tex])
        self._readback = np.empty((self.out_size[1], self.out_size[0], 3), np.uint8)
        self._hud = None
        self._owner: dict[tuple[str, int], str] = {}  # (chain key, copy) -> the scene drawn on it last
        self._drawn: set[tuple[str, int]] = set()  # the copies the last frame drew
        # the (result, job) each copy last uploaded; the result is held so its id cannot be reused by a newer one
        self._uploaded: dict[tuple[str, int], tuple[Generated, int]] = {}
        self._next_poll = 0.0
        self.shader_errors_seen = 0  # compile failures since the start, for the status file
        self.capture = False  # video outputs: read each frame back before the HUD is drawn over it (take_frame)
        self._captured: np.ndarray | None = None
        self.sync(conductor.chains())

    # -- setup -----------------------------------------------------------------------------------------------
    def sync(self, chains: Mapping[str, Any]) -> None:
        """Compile chains (and copies) that are new (after a hot reload), release those no longer used."""
        model = next(iter(self.conductor.models.values()))
        h, w = model.resolution, model.resolution  # the chain's source slots resize to what arrives
        copies = getattr(self.conductor, "chain_copies", lambda: {})()
        for key, shaders in chains.items():
            pool = self.chains.setdefault(key, [])
            while len(pool) < max(1, copies.get(key, 1)):
                pool.append(ShaderChain(self.ctx, pass_specs(shaders), (w, h), self.out_size))
        for key in list(self.chains):
            if key not in chains:
                for chain in self.chains.pop(key):
                    chain.release()
        live = {(k, i) for k, pool in self.chains.items() for i in range(len(pool))}
        for d in (self._owner, self._uploaded):
            for k in [k for k in d if k not in live]:
                del d[k]

    def _ensure_hud(self):
        if self._hud is None:
            # pygame (the HUD's fonts) is loaded only when the HUD is first shown
            from perform.render.hud import Hud

            self._hud = Hud(self.ctx, library=self._library)
        return self._hud

    # -- per frame -------------------------------------------------------------------------------------------
    def draw(self, plan: FramePlan, generated: Generated | None, hud_lines: list[str]) -> None:
        ctx = self.ctx
        screen = self.window is not None
        target = ctx.screen if screen else self._out_fbo
        if plan.blackout or generated is None or not plan.layers:
            target.use()
            target.clear(0.0, 0.0, 0.0, 1.0)
            self._drawn = set()
        else:
            layers = plan.layers
            if plan.fade >= 1.0:
                layers = layers[-1:]
            elif plan.fade <= 0.0 or len(layers) == 1:
                layers = layers[:1]
            copies = self._copies(layers)
            flip = screen  # the output framebuffer is in image order; a window's screen is bottom-up
            for i, (layer, copy) in enumerate(zip(layers, copies)):
                chain = self.chains[layer.chain][copy]
                self._upload(chain, (layer.chain, copy), layer, generated)
                for (pass_name, param), value in layer.params.items():
                    try:
                        chain.set_param(pass_name, param, value)
                    except PerformError as exc:
                        self.reporter.report("shader parameter", exc)
                # the first layer is drawn as it is; the second blended over it by the fade
                chain.render(plan.t_s, plan.index, target=target, flip_y=flip, opacity=1.0 if i == 0 else plan.fade)
            self._drawn = {(layer.chain, c) for layer, c in zip(layers, copies)}
        if self.capture:
            self._captured = self._read_clean(target, screen)
        if hud_lines:
            hud = self._ensure_hud()
            hud.update(hud_lines + [f"shader error: {e.splitlines()[0][:100]}" for e in self.shader_errors[:2]],
                       time.perf_counter())
            hud.draw(target, flip_y=screen)
        if self.hot_reload:
            self._poll_shaders()

    def _copies(self, layers: tuple[Layer, ...]) -> list[int]:
        """Which copy of its chain each layer draws on: the copy its scene had, else a free one, preferring
        the copy drawn last frame (a scene taking over a chain in a cut or a latent transition continues its
        trails); a copy taken from a scene not seen last frame starts afresh."""
        taken: set[tuple[str, int]] = set()
        out = []
        for layer in layers:
            pool = self.chains[layer.chain]
            free = [i for i in range(len(pool)) if (layer.chain, i) not in taken]
            mine = [i for i in free if self._owner.get((layer.chain, i)) == layer.scene]
            if mine:
                copy = mine[0]
            else:
                if not free:  # two layers on a chain with one copy (not planned for): compile another
                    log.warning("compiling another copy of a shader chain mid-show (scene %s)", layer.scene)
                    first = pool[0]
                    pool.append(ShaderChain(self.ctx, first.specs, first.source_size, self.out_size))
                    free = [len(pool) - 1]
                others = {other.scene for other in layers}
                spare = [i for i in free if self._owner.get((layer.chain, i)) not in others]
                ranked = sorted(spare or free, key=lambda i: (layer.chain, i) not in self._drawn)
                copy = ranked[0]
                if (layer.chain, copy) not in self._drawn:
                    pool[copy].reset()
                self._owner[(layer.chain, copy)] = layer.scene
            taken.add((layer.chain, copy))
            out.append(copy)
        return out

    def _upload(self, chain: ShaderChain, where: tuple[str, int], layer: Layer, generated: Generated) -> None:
        """Put the layer's image into its chain copy, when it is not there already. The result may come from an
        older plan (the live clock draws the newest result with the newest plan): the image is the one that
        plan made for the same scene, else its first."""
        job = next((l.job for l in generated.plan.layers if l.scene == layer.scene), 0)
        job = job if job < len(generated.images) else 0
        if self._uploaded.get(where) == (generated, job):
            return
        img = generated.images[job]
        if img.ndim == 4:  # a pair side by side: generator A to slot 0, B to slot 1
            chain.upload(img[0], slot=0)
            chain.upload(img[1], slot=1)
        else:
            chain.upload(img, slot=0)
        self._uploaded[where] = (generated, job)

    def _poll_shaders(self) -> None:
        now = time.perf_counter()
        if now < self._next_poll:
            return
        self._next_poll = now + SHADER_POLL_S
        for chain in (c for pool in self.chains.values() for c in pool):
            self.shader_errors_seen += len(chain.poll_shaders())

    @property
    def shader_errors(self) -> list[str]:
        """The shader files failing now, one message each (a later edit that compiles removes its own):
        the chains keep them by file, and keep their last good program meanwhile."""
        current = {name: str(err) for pool in self.chains.values() for chain in pool
                   for name, err in chain.shader_errors.items()}
        return [current[name] for name in sorted(current)]

    def present(self) -> list[str]:
        collect_garbage(self.ctx)
        if self.window is not None:
            self.window.swap()
            return self.window.poll_events()
        return []

    def toggle_fullscreen(self) -> None:
        if self.window is not None:
            self.window.toggle_fullscreen()

    def _read_clean(self, target: moderngl.Framebuffer, screen: bool) -> np.ndarray:
        """The frame as drawn so far (no HUD), top row first: a new array each frame, as outputs keep it on their
        threads. A window's back buffer is bottom-up and the window's size: a flipped view (outputs fit the size)."""
        w, h = target.size if screen else self.out_size
        frame = np.empty((h, w, 3), np.uint8)
        target.read_into(frame, viewport=(0, 0, w, h), components=3, alignment=1)
        return frame[::-1] if screen else frame

    def take_frame(self) -> np.ndarray | None:
        """The clean frame drawn since the last call (with `capture` on), else None."""
        frame, self._captured = self._captured, None
        return frame

    def read_pixels(self) -> np.ndarray:
        """The frame just drawn, (H, W, 3) uint8, top row first (headless)."""
        self._out_fbo.read_into(self._readback, components=3, alignment=1)
        return self._readback

    def close(self) -> None:
        for pool in self.chains.values():
            for chain in pool:
                chain.release()
        self.chains.clear()
        if self._hud is not None:
            self._hud.release()
        self._out_fbo.release()
        self._out_tex.release()
