"""Render passes: one class per effect, owning its program, sampler, VAO and targets; the PASS_TYPES registry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Mapping, NamedTuple, Sequence

import moderngl

from perform.errors import PerformError
from perform.render.shaders import ShaderCompileError, ShaderLibrary, build_program

ParamValue = float | int | str


class Param(NamedTuple):
    """A pass parameter: its default and the range it is clamped to."""

    default: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class PassSpec:
    """One pass of a chain as a setlist names it: its type, a unique name, and parameter values."""

    type: str
    name: str = ""
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.type


class RenderPass:
    """A full-screen pass: a fragment shader from shaders/, its uniforms, and where it draws.

    Subclasses declare `fragment`, `params` (name -> Param) and, for enumerated parameters, `choices`
    (name -> {word: value}) so a setlist can say `filter = "bicubic"`. Each parameter `p` is the
    uniform `u_p`. Effect passes draw into a target they own, sized by `output_size(input_size)`.
    """

    type_name: ClassVar[str] = ""
    fragment: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    choices: ClassVar[dict[str, dict[str, float]]] = {}
    inputs: ClassVar[int] = 1
    # shader variants by name -> #defines; `variant()` picks one from the values each frame
    variants: ClassVar[dict[str, dict[str, str]]] = {"": {}}
    sampler_filter: ClassVar[int] = moderngl.LINEAR

    def __init__(self, ctx: moderngl.Context, library: ShaderLibrary, name: str = "",
                 values: Mapping[str, ParamValue] | None = None) -> None:
        self.ctx = ctx
        self.library = library
        self.name = name or self.type_name
        self.values: dict[str, float] = resolve_params(self.type_name, values or {}, where=f"pass {self.name!r}")
        self.sampler = ctx.sampler(filter=(self.sampler_filter, self.sampler_filter), repeat_x=False, repeat_y=False)
        self._programs: dict[str, tuple[moderngl.Program, moderngl.VertexArray, dict[str, moderngl.Uniform]]] = {}
        self._programs = self._build_programs()
        self._variant = ""
        self._select(self.variant())
        self.size: tuple[int, int] = (0, 0)
        self.texture: moderngl.Texture | None = None
        self.fbo: moderngl.Framebuffer | None = None

    # -- parameters -------------------------------------------------------------------------------------------

    def set(self, param: str, value: ParamValue) -> None:
        """Set a parameter, clamped to its range (a live controller may overshoot; it must not crash)."""
        self.values[param] = coerce_param(self.type_name, param, value, where=f"pass {self.name!r}", clamp=True)

    def is_identity(self) -> bool:
        """True when the current values leave the image unchanged, so the chain can skip the pass."""
        return False

    # -- GL ------------------------------------------------------------------------------------------------------

    def output_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        return input_size

    def resize(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """(Re)allocate the target for this input size; returns the output size. Not per frame."""
        size = self.output_size(input_size)
        if size != self.size:
            self._release_targets()
            self.texture = self.ctx.texture(size, 4)
            self.texture.repeat_x = self.texture.repeat_y = False
            self.fbo = self.ctx.framebuffer(color_attachments=[self.texture])
            self.size = size
        return size

    def render(self, inputs: Sequence[moderngl.Texture], time_s: float, frame: int) -> moderngl.Texture:
        """Draw into this pass's own target; returns the texture holding the result."""
        assert self.fbo is not None and self.texture is not None, "resize() before render()"
        self.draw(self.fbo, inputs, time_s, frame, self.size)
        return self.texture

    def draw(self, fbo: moderngl.Framebuffer, inputs: Sequence[moderngl.Texture], time_s: float, frame: int,
             size: tuple[int, int], origin: tuple[int, int] = (0, 0),
             viewport: tuple[int, int, int, int] | None = None) -> None:
        """Shade the `size` rectangle at `origin` of `fbo` (u_resolution is `size`), or all of `viewport`."""
        variant = self.variant()
        if variant != self._variant:
            self._select(variant)
        fbo.use()
        fbo.viewport = viewport or (*origin, *size)
        for unit, tex in enumerate(inputs[: self.inputs]):
            tex.use(location=unit)
            self.sampler.use(location=unit)
        u = self._uniforms
        self._set("u_time", float(time_s))
        self._set("u_frame", int(frame))
        self._set("u_resolution", (float(size[0]), float(size[1])))
        for k, v in self.values.items():
            if "u_" + k in u:
                u["u_" + k].value = v
        self.update_uniforms(inputs, size)
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def update_uniforms(self, inputs: Sequence[moderngl.Texture], size: tuple[int, int]) -> None:
        """Hook for uniforms derived from parameters and sizes."""

    def variant(self) -> str:
        """The shader variant the current values need (a key of `variants`)."""
        return ""

    def reload(self) -> None:
        """Recompile from the files on disk; on failure raise ShaderCompileError and keep the old programs."""
        new = self._build_programs()
        old, self._programs = self._programs, new
        _release_programs(old)
        self._select(self._variant)

    def release(self) -> None:
        self._release_targets()
        _release_programs(self._programs)
        self._programs = {}
        self.sampler.release()

    def _set(self, name: str, value: object) -> None:
        uni = self._uniforms.get(name)
        if uni is not None:
            uni.value = value

    def _build_programs(self) -> dict[str, tuple[moderngl.Program, moderngl.VertexArray, dict[str, moderngl.Uniform]]]:
        built: dict[str, tuple[moderngl.Program, moderngl.VertexArray, dict[str, moderngl.Uniform]]] = {}
        try:
            for key, defines in self.variants.items():
                program = build_program(self.ctx, self.library, self.fragment, defines=defines)
                uniforms = {k: program[k] for k in program if isinstance(program[k], moderngl.Uniform)}
                for unit, sampler_name in enumerate(("u_input0", "u_input1", "u_prev")):
                    if sampler_name in uniforms:
                        uniforms[sampler_name].value = unit
                built[key] = (program, self.ctx.vertex_array(program, []), uniforms)
        except BaseException:
            _release_programs(built)
            raise
        return built

    def _select(self, variant: str) -> None:
        self.program, self.vao, self._uniforms = self._programs[variant]
        self._variant = variant

    def _release_targets(self) -> None:
        for obj in (self.fbo, self.texture):
            if obj is not None:
                obj.release()
        self.fbo = self.texture = None
        self.size = (0, 0)


def _release_programs(programs: Mapping[str, tuple[moderngl.Program, moderngl.VertexArray, object]]) -> None:
    for program, vao, _ in programs.values():
        vao.release()
        program.release()


# -- the passes ------------------------------------------------------------------------------------------------


class PassthroughPass(RenderPass):
    type_name = "passthrough"
    fragment = "passthrough.frag"
    sampler_filter = moderngl.NEAREST

    def is_identity(self) -> bool:
        return True


class DisplayPass(RenderPass):
    """The final pass: fits the image into the output size, filters, and flips for a window.

    With `contain` only the fitted rectangle is shaded and the bars are cleared: a square 128 px image on a
    16:9 output shades 56% of the pixels, and on llvmpipe the output-sized pass is most of a frame's cost.
    With `opacity` < 1 (the incoming layer of a transition) it blends over what the target holds and
    shades the whole output instead, bars black: clearing them would cut holes in the layer below.
    `fsr` (edge-adaptive, shaders/fsr.glsl) first sharpens the image at the source size into a target this
    pass owns, then upscales it; `sharpness` 0 skips the sharpening.
    """

    type_name = "display"
    fragment = "display.frag"
    params = {"filter": Param(1, 0, 3), "fit": Param(0, 0, 2), "sharpness": Param(0.8, 0.0, 1.0)}
    choices = {"filter": {"nearest": 0, "linear": 1, "bicubic": 2, "fsr": 3},
               "fit": {"contain": 0, "cover": 1, "stretch": 2}}
    variants = {"": {}, "bicubic": {"BICUBIC": "1"}, "fsr": {"FSR": "1"}, "fsr_prep": {"FSR_PREP": "1"}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flip_y = False
        self.opacity = 1.0
        self._sampler_filter = -1
        self._sharpened: tuple[moderngl.Texture, moderngl.Framebuffer] | None = None

    def variant(self) -> str:
        f = self.values["filter"]
        return "fsr" if f > 2.5 else "bicubic" if f > 1.5 else ""

    def draw(self, fbo: moderngl.Framebuffer, inputs: Sequence[moderngl.Texture], time_s: float, frame: int,
             size: tuple[int, int], origin: tuple[int, int] = (0, 0)) -> None:
        src = inputs[0].size
        fsr = self.values["filter"] > 2.5
        if fsr and self.values["sharpness"] > 0.0:  # before any blending: the target is replaced, not blended
            self.ctx.disable(moderngl.BLEND)
            inputs = (self._sharpen(inputs[0]),)
        fit = int(round(self.values["fit"]))
        x, y, w, h = fit_rect(src, size) if fit == 0 else (0, 0, *size)
        over = self.opacity < 1.0
        if (w, h) != tuple(size) and not over:  # clear the two bars only: clearing is a full memory pass on llvmpipe
            fbo.use()
            far = (x + w, 0, size[0] - x - w, size[1]) if y == 0 else (0, y + h, size[0], size[1] - y - h)
            for bar in ((0, 0, x, size[1]) if y == 0 else (0, 0, size[0], y), far):
                if bar[2] > 0 and bar[3] > 0:
                    fbo.clear(0.0, 0.0, 0.0, 1.0, viewport=bar)
        if fit == 1:
            sx, sy = cover_scale(src, size)
        else:
            sx, sy = 1.0, 1.0
        self._set("u_origin", (float(x), float(y)))
        self._set("u_scale", (sx, sy))
        self._set("u_offset", (0.5 - 0.5 * sx, 0.5 - 0.5 * sy))
        self._set("u_input_size", (float(src[0]), float(src[1])))
        self._set("u_flip_y", 1.0 if self.flip_y else 0.0)
        self._set("u_opacity", float(self.opacity))
        # nearest is the sampler's job; linear and bicubic (9 linear taps) want linear; fsr reads texels
        f = moderngl.NEAREST if self.values["filter"] < 0.5 else moderngl.LINEAR
        if f != self._sampler_filter:
            self.sampler.filter = (f, f)
            self._sampler_filter = f
        if over:
            self.ctx.enable(moderngl.BLEND)
            # colour: over; alpha: the target's own (a window's alpha must stay opaque)
            self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ZERO, moderngl.ONE
        try:
            super().draw(fbo, inputs, time_s, frame, (w, h), origin=(x, y), viewport=(0, 0, *size) if over else None)
        finally:
            if over:
                self.ctx.disable(moderngl.BLEND)

    def _sharpen(self, image: moderngl.Texture) -> moderngl.Texture:
        """The image sharpened at its own size (the FSR_PREP variant) into this pass's target."""
        if self._sharpened is None or self._sharpened[0].size != image.size:
            self._release_sharpened()  # a new source size: rare, not per frame
            sharpened = self.ctx.texture(image.size, 4)
            self._sharpened = (sharpened, self.ctx.framebuffer(color_attachments=[sharpened]))
        sharpened, fbo = self._sharpened
        _, vao, uniforms = self._programs["fsr_prep"]
        fbo.use()
        fbo.viewport = (0, 0, *image.size)
        image.use(location=0)
        self.sampler.use(location=0)
        if "u_sharpness" in uniforms:
            uniforms["u_sharpness"].value = self.values["sharpness"]
        vao.render(moderngl.TRIANGLES, vertices=3)
        return sharpened

    def _release_sharpened(self) -> None:
        if self._sharpened is not None:
            for obj in reversed(self._sharpened):
                obj.release()
            self._sharpened = None

    def release(self) -> None:
        self._release_sharpened()
        super().release()


def fit_rect(src: tuple[int, int], dst: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest rectangle of the source's aspect centred in dst, in whole pixels: (x, y, w, h)."""
    sw, sh = src
    dw, dh = dst
    if sw * dh >= sh * dw:  # the image is wider than the output: bars top and bottom
        w, h = dw, max(1, round(dw * sh / sw))
    else:
        w, h = max(1, round(dh * sw / sh)), dh
    return ((dw - w) // 2, (dh - h) // 2, w, h)


def cover_scale(src: tuple[int, int], dst: tuple[int, int]) -> tuple[float, float]:
    """Output uv -> image uv scale per axis that fills dst with the image, cropping what does not fit."""
    ratio = (dst[0] / dst[1]) / (src[0] / src[1])  # > 1: the output is wider than the image
    return (1.0, 1.0 / ratio) if ratio > 1 else (ratio, 1.0)


class ColourGradePass(RenderPass):
    type_name = "colour_grade"
    fragment = "colour_grade.frag"
    params = {
        "exposure": Param(0.0, -4.0, 4.0),
        "contrast": Param(1.0, 0.0, 3.0),
        "saturation": Param(1.0, 0.0, 3.0),
        "hue_shift": Param(0.0, -180.0, 180.0),
        "tint_r": Param(1.0, 0.0, 2.0),
        "tint_g": Param(1.0, 0.0, 2.0),
        "tint_b": Param(1.0, 0.0, 2.0),
        "gamma": Param(1.0, 0.2, 5.0),
    }

    def is_identity(self) -> bool:
        return all(self.values[k] == p.default for k, p in self.params.items())


class FeedbackPass(RenderPass):
    """Trails: blends the previous output (zoomed, rotated) with the new image. Owns two targets, ping-pong."""

    type_name = "feedback"
    fragment = "feedback.frag"
    params = {
        "decay": Param(0.0, 0.0, 0.99),
        "zoom": Param(1.0, 0.8, 1.25),
        "rotate": Param(0.0, -0.2, 0.2),
        "mode": Param(0, 0, 2),
    }
    choices = {"mode": {"mix": 0, "max": 1, "add": 2}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prev_sampler = self.ctx.sampler(repeat_x=False, repeat_y=False, border_color=(0.0, 0.0, 0.0, 1.0))
        self._textures: list[moderngl.Texture] = []
        self._fbos: list[moderngl.Framebuffer] = []
        self._current = 0
        self._has_history = False

    def is_identity(self) -> bool:
        if self.values["decay"] == 0.0:
            # skipped frames break the history; start afresh (from the input, not black) when it comes back
            self._has_history = False
            return True
        return False

    def resize(self, input_size: tuple[int, int]) -> tuple[int, int]:
        if input_size != self.size:
            self._release_targets()
            # half floats: 8 bits would leave trails stuck at a low level instead of fading to black
            self._textures = [self.ctx.texture(input_size, 4, dtype="f2") for _ in range(2)]
            self._fbos = [self.ctx.framebuffer(color_attachments=[t]) for t in self._textures]
            self.size = input_size
            self._has_history = False
        return input_size

    def render(self, inputs: Sequence[moderngl.Texture], time_s: float, frame: int) -> moderngl.Texture:
        prev, cur = self._textures[self._current], self._textures[1 - self._current]
        prev.use(location=2)
        self.prev_sampler.use(location=2)
        self._set("u_has_history", 1.0 if self._has_history else 0.0)
        self.draw(self._fbos[1 - self._current], inputs, time_s, frame, self.size)
        self._current = 1 - self._current
        self._has_history = True
        return cur

    def reset(self) -> None:
        """Forget the trails (a scene change may want a clean start)."""
        self._has_history = False

    def release(self) -> None:
        super().release()
        self.prev_sampler.release()

    def _release_targets(self) -> None:
        for obj in (*self._fbos, *self._textures):
            obj.release()
        self._fbos, self._textures = [], []
        self.size = (0, 0)


class MirrorPass(RenderPass):
    type_name = "mirror"
    fragment = "mirror.frag"
    params = {"axis": Param(1, 0, 3)}
    choices = {"axis": {"off": 0, "horizontal": 1, "vertical": 2, "both": 3}}

    def is_identity(self) -> bool:
        return self.values["axis"] == 0


class KaleidoscopePass(RenderPass):
    type_name = "kaleidoscope"
    fragment = "kaleidoscope.frag"
    params = {"segments": Param(6, 0, 32), "angle": Param(0.0, -360.0, 360.0), "spin": Param(0.0, -360.0, 360.0)}

    def is_identity(self) -> bool:
        return self.values["segments"] < 1


class SideBySidePass(RenderPass):
    """Two images in one frame, twice as wide: input 0 left, source slot 1 right (the data-free pair)."""

    type_name = "side_by_side"
    fragment = "side_by_side.frag"
    params = {"gap": Param(0.0, 0.0, 0.5)}
    inputs = 2

    def output_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        return (2 * input_size[0], input_size[1])


class CrossfadePass(RenderPass):
    """Scene transitions: input 0 to source slot 1 as `mix` goes 0 -> 1."""

    type_name = "crossfade"
    fragment = "crossfade.frag"
    params = {"mix": Param(0.0, 0.0, 1.0), "mode": Param(0, 0, 2), "softness": Param(0.1, 0.0, 1.0)}
    choices = {"mode": {"mix": 0, "wipe": 1, "dissolve": 2}}
    inputs = 2

    def is_identity(self) -> bool:
        return self.values["mix"] == 0.0


class PixelatePass(RenderPass):
    type_name = "pixelate"
    fragment = "pixelate.frag"
    sampler_filter = moderngl.NEAREST
    params = {"size": Param(1.0, 1.0, 64.0)}

    def is_identity(self) -> bool:
        return self.values["size"] <= 1.0


class RgbShiftPass(RenderPass):
    type_name = "rgb_shift"
    fragment = "rgb_shift.frag"
    params = {"amount": Param(0.0, 0.0, 32.0), "angle": Param(0.0, -360.0, 360.0)}

    def is_identity(self) -> bool:
        return self.values["amount"] == 0.0


class PosterizePass(RenderPass):
    type_name = "posterize"
    fragment = "posterize.frag"
    params = {"levels": Param(0, 0, 64)}

    def is_identity(self) -> bool:
        return self.values["levels"] < 2


class WavePass(RenderPass):
    type_name = "wave"
    fragment = "wave.frag"
    params = {"amplitude": Param(0.0, 0.0, 0.25), "frequency": Param(3.0, 0.0, 64.0), "speed": Param(0.5, -10.0, 10.0)}

    def is_identity(self) -> bool:
        return self.values["amplitude"] == 0.0


PASS_TYPES: dict[str, type[RenderPass]] = {
    cls.type_name: cls
    for cls in (PassthroughPass, DisplayPass, ColourGradePass, FeedbackPass, MirrorPass, KaleidoscopePass,
                SideBySidePass, CrossfadePass, PixelatePass, RgbShiftPass, PosterizePass, WavePass)
}


def pass_type(type_name: str, where: str = "") -> type[RenderPass]:
    try:
        return PASS_TYPES[type_name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise PerformError(f"{prefix}unknown pass type {type_name!r}; expected one of {', '.join(PASS_TYPES)}") from None


def coerce_param(type_name: str, param: str, value: ParamValue, where: str = "", clamp: bool = False) -> float:
    """One parameter value as a float, by name; words for enumerated ones. Out of range: clamped or an error."""
    cls = pass_type(type_name, where)
    prefix = f"{where}: " if where else ""
    spec = cls.params.get(param)
    if spec is None:
        valid = ", ".join(cls.params) or "none"
        raise PerformError(f"{prefix}{type_name} has no parameter {param!r}; valid parameters: {valid}")
    words = cls.choices.get(param, {})
    if isinstance(value, str):
        if value not in words:
            expected = ", ".join(repr(w) for w in words) if words else f"a number in [{spec.min}, {spec.max}]"
            raise PerformError(f"{prefix}{type_name}.{param} = {value!r}; expected {expected}")
        return float(words[value])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PerformError(f"{prefix}{type_name}.{param} = {value!r}; expected a number in [{spec.min}, {spec.max}]")
    v = float(value)
    if not spec.min <= v <= spec.max:
        if not clamp:
            raise PerformError(f"{prefix}{type_name}.{param} = {value!r} is outside [{spec.min}, {spec.max}]")
        v = min(max(v, spec.min), spec.max)
    return v


def resolve_params(type_name: str, values: Mapping[str, ParamValue], where: str = "") -> dict[str, float]:
    """Every parameter of a pass type: defaults overridden by `values`, each checked by name and range."""
    cls = pass_type(type_name, where)
    out = {k: float(p.default) for k, p in cls.params.items()}
    for k, v in values.items():
        out[k] = coerce_param(type_name, k, v, where)
    return out


def validate_spec(spec: PassSpec, where: str = "") -> None:
    """Check a PassSpec's type and parameters without a GL context (setlist validation, `perform check`)."""
    resolve_params(spec.type, spec.params, where or f"pass {spec.label!r}")


def create_pass(ctx: moderngl.Context, library: ShaderLibrary, spec: PassSpec) -> RenderPass:
    return pass_type(spec.type, f"pass {spec.label!r}")(ctx, library, spec.label, spec.params)


__all__ = [
    "PASS_TYPES", "Param", "PassSpec", "RenderPass", "ShaderCompileError", "coerce_param", "create_pass",
    "cover_scale", "fit_rect", "pass_type", "resolve_params", "validate_spec",
]
