"""The shader chain: source images in, effect passes at source resolution, one final pass to the output size."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import moderngl
import numpy as np

from perform.errors import PerformError
from perform.render.passes import DisplayPass, ParamValue, PassSpec, RenderPass, create_pass, validate_spec
from perform.render.shaders import ShaderCompileError, ShaderLibrary

log = logging.getLogger(__name__)

SLOTS = 2  # source images: slot 0 the generator, slot 1 a second generator or the incoming scene


class _SourceSlot:
    """One uploaded image: a texture re-used until the image's size or channel count changes."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.texture = ctx.texture(size, 3)  # black until the first upload
        self.version: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.texture.size

    def upload(self, image: np.ndarray, version: int | None) -> bool:
        """Write the image; returns True when the texture had to be reallocated (a new size)."""
        if version is not None and version == self.version:
            return False
        image = _as_image(image)
        h, w = image.shape[:2]
        c = image.shape[2]
        resized = (w, h) != self.texture.size or c != self.texture.components
        if resized:
            self.texture.release()
            self.texture = self.ctx.texture((w, h), c)
            if c == 1:
                self.texture.swizzle = "RRR1"  # grey images show as grey, not red
        self.texture.write(image)  # rows in image order: row 0 at v = 0
        self.version = version
        return resized

    def release(self) -> None:
        self.texture.release()


def _as_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise PerformError(f"expected a uint8 numpy image, got {getattr(image, 'dtype', type(image).__name__)}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise PerformError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    return np.ascontiguousarray(image)


class ShaderChain:
    """Runs a list of passes on up to two source images and draws the result at the output size.

    Effect passes run at `source_size * effect_scale` (on llvmpipe a full-screen pass at 720p costs ~5.6 ms,
    so only the last pass touches output-sized pixels). The last pass is a `display` pass: the one in
    `passes` if it ends with one, else a default (linear, contain). Passes whose values make them identity
    are skipped. Nothing is allocated per frame; textures are reallocated only when an image changes size.

    Orientation: the chain's own framebuffer holds the image top row first, so `read_pixels()` needs no
    flip; rendering to another target (a window's screen) flips for GL's bottom-up convention.
    """

    def __init__(self, ctx: moderngl.Context, passes: Sequence[PassSpec], source_size: tuple[int, int],
                 output_size: tuple[int, int], *, library: ShaderLibrary | None = None, effect_scale: int = 1) -> None:
        if effect_scale < 1 or int(effect_scale) != effect_scale:
            raise PerformError(f"effect_scale must be a whole number >= 1, got {effect_scale!r}")
        _check_size("source_size", source_size)
        _check_size("output_size", output_size)
        specs = list(passes)
        if not specs or specs[-1].type != DisplayPass.type_name:
            specs.append(PassSpec(DisplayPass.type_name, "display"))
        names = [s.label for s in specs]
        for i, spec in enumerate(specs):
            validate_spec(spec)
            if spec.type == DisplayPass.type_name and i != len(specs) - 1:
                raise PerformError(f"pass {spec.label!r}: a display pass can only be the last pass of a chain")
            if names.count(spec.label) > 1:
                raise PerformError(f"pass name {spec.label!r} is used twice; give each pass a unique name")

        self.ctx = ctx
        self.specs = tuple(specs)
        self.library = library or ShaderLibrary()
        self.effect_scale = int(effect_scale)
        self.shader_errors: dict[str, ShaderCompileError] = {}
        self._passes: list[RenderPass] = []
        self._slots: list[_SourceSlot] = []
        self._out_texture: moderngl.Texture | None = None
        self._out_fbo: moderngl.Framebuffer | None = None
        try:
            for spec in specs:
                self._passes.append(create_pass(ctx, self.library, spec))
            self._slots = [_SourceSlot(ctx, tuple(source_size)) for _ in range(SLOTS)]
            self._resize_effects()
            self.resize_output(tuple(output_size))
        except BaseException:
            self.release()
            raise
        self._by_name = {p.name: p for p in self._passes}
        self._effects = self._passes[:-1]
        self._final: DisplayPass = self._passes[-1]  # type: ignore[assignment]
        self._inputs: list[moderngl.Texture] = [s.texture for s in self._slots]

    # -- inputs ---------------------------------------------------------------------------------------------------

    def upload(self, image: np.ndarray, slot: int = 0, version: int | None = None) -> None:
        """Upload a (H, W, 3) uint8 image, top row first, to a source slot.

        With `version` (e.g. the Mailbox version it came from) an unchanged image is not uploaded again.
        A new size reallocates that slot (and for slot 0, the effect targets): rare, not per frame.
        """
        if not 0 <= slot < SLOTS:
            raise PerformError(f"source slot {slot} does not exist; slots are 0..{SLOTS - 1}")
        if self._slots[slot].upload(image, version) and slot == 0:
            log.info("source image is now %dx%d; resizing the effect passes", *self._slots[0].size)
            self._resize_effects()

    @property
    def source_size(self) -> tuple[int, int]:
        return self._slots[0].size

    @property
    def effect_size(self) -> tuple[int, int]:
        w, h = self._slots[0].size
        return (w * self.effect_scale, h * self.effect_scale)

    # -- parameters -----------------------------------------------------------------------------------------------

    @property
    def pass_names(self) -> list[str]:
        return [p.name for p in self._passes]

    def get_pass(self, pass_name: str) -> RenderPass:
        try:
            return self._by_name[pass_name]
        except KeyError:
            raise PerformError(
                f"no pass named {pass_name!r} in this chain; passes: {', '.join(self._by_name)}"
            ) from None

    def set_param(self, pass_name: str, param: str, value: ParamValue) -> None:
        """Set one parameter by name; out-of-range numbers are clamped, unknown names raise PerformError."""
        self.get_pass(pass_name).set(param, value)

    def set_params(self, pass_name: str, values: Mapping[str, ParamValue]) -> None:
        p = self.get_pass(pass_name)
        for k, v in values.items():
            p.set(k, v)

    def params(self, pass_name: str) -> dict[str, float]:
        return dict(self.get_pass(pass_name).values)

    # -- drawing --------------------------------------------------------------------------------------------------

    def render(self, time_s: float, frame: int, target: moderngl.Framebuffer | None = None,
               target_size: tuple[int, int] | None = None, flip_y: bool | None = None, opacity: float = 1.0) -> None:
        """Run the chain for one frame into `target` (default: the chain's own framebuffer, for read_pixels).

        `flip_y` defaults to True for a given target (a window's screen) and False for the chain's own.
        `opacity` < 1 blends the result over what the target holds (a scene transition's incoming layer):
        the effects still run at source size, and the blend costs no pass of its own.
        """
        ctx = self.ctx
        ctx.disable(moderngl.BLEND)
        inputs = self._inputs
        inputs[0] = self._slots[0].texture
        inputs[1] = self._slots[1].texture
        for p in self._effects:
            if not p.is_identity():
                inputs[0] = p.render(inputs, time_s, frame)
        fbo = target if target is not None else self._out_fbo
        assert fbo is not None
        size = target_size or (fbo.size if target is not None else self.output_size)
        self._final.flip_y = (target is not None) if flip_y is None else flip_y
        self._final.opacity = min(max(float(opacity), 0.0), 1.0)  # < 1: the display pass blends
        self._final.draw(fbo, inputs, time_s, frame, size)

    def reset(self) -> None:
        """Forget what stateful passes remember (feedback trails): the chain starts afresh on its next image."""
        for p in self._passes:
            reset = getattr(p, "reset", None)
            if reset is not None:
                reset()

    @property
    def output_size(self) -> tuple[int, int]:
        assert self._out_texture is not None
        return self._out_texture.size

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        """The chain's own output (image order), e.g. to draw the HUD into before read_pixels."""
        assert self._out_fbo is not None
        return self._out_fbo

    def resize_output(self, size: tuple[int, int]) -> None:
        _check_size("output_size", size)
        if self._out_texture is not None and self._out_texture.size == tuple(size):
            return
        self._release_output()
        self._out_texture = self.ctx.texture(tuple(size), 4)
        self._out_fbo = self.ctx.framebuffer(color_attachments=[self._out_texture])
        w, h = size
        self._readback = np.empty((h, w, 3), np.uint8)

    def read_pixels(self, out: np.ndarray | None = None) -> np.ndarray:
        """The last frame rendered into the chain's framebuffer as (H, W, 3) uint8, top row first.

        Reads into a buffer owned by the chain (no per-frame allocation) and returns a copy, or fills `out`.
        """
        assert self._out_fbo is not None
        self._out_fbo.read_into(self._readback, components=3, alignment=1)
        if out is None:
            return self._readback.copy()
        np.copyto(out, self._readback)
        return out

    # -- hot reload -------------------------------------------------------------------------------------------------

    def poll_shaders(self) -> list[ShaderCompileError]:
        """Reload passes whose shader files changed (call a few times a second, not per frame).

        A shader that fails keeps its last good program; the failure is returned and kept in
        `shader_errors` (by file name) until a later edit compiles.
        """
        changed = self.library.poll()
        if not changed:
            return []
        new_errors: list[ShaderCompileError] = []
        for p in self._passes:
            if p.fragment not in changed and "fullscreen.vert" not in changed:
                continue
            try:
                p.reload()
            except ShaderCompileError as exc:
                new_errors.append(exc)
                self.shader_errors[p.fragment] = exc
                log.error("%s (keeping the last good program)", exc)
            except PerformError as exc:  # e.g. the file vanished for a moment during an editor's save
                err = ShaderCompileError(p.fragment, str(exc))
                new_errors.append(err)
                self.shader_errors[p.fragment] = err
                log.error("%s (keeping the last good program)", exc)
            else:
                if self.shader_errors.pop(p.fragment, None) is not None:
                    log.info("shader %s compiles again", p.fragment)
        return new_errors

    def release(self) -> None:
        for p in self._passes:
            p.release()
        for s in self._slots:
            s.release()
        self._passes, self._slots = [], []
        self._release_output()

    # -- internals ----------------------------------------------------------------------------------------------------

    def _resize_effects(self) -> None:
        size = self.effect_size
        for p in self._passes[:-1]:
            size = p.resize(size)

    def _release_output(self) -> None:
        for obj in (self._out_fbo, self._out_texture):
            if obj is not None:
                obj.release()
        self._out_fbo = self._out_texture = None


def _check_size(what: str, size: Sequence[int]) -> None:
    if len(size) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in size):
        raise PerformError(f"{what} must be (width, height) in whole pixels > 0, got {size!r}")
