"""The shader chain rendered for real through EGL at small sizes."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from perform.errors import PerformError
from perform.render.chain import ShaderChain
from perform.render.passes import PASS_TYPES, PassSpec, resolve_params, validate_spec
from perform.render.shaders import ShaderCompileError, ShaderLibrary

pytestmark = pytest.mark.gl

NEAREST = PassSpec("display", params={"filter": "nearest"})


def run(ctx, specs, image, size=None, slot1=None, frames=1, **kw):
    h, w = image.shape[:2]
    chain = ShaderChain(ctx, specs, (w, h), size or (w, h), **kw)
    try:
        chain.upload(image)
        if slot1 is not None:
            chain.upload(slot1, slot=1)
        for f in range(frames):
            chain.render(f / 30, f)
        return chain.read_pixels()
    finally:
        chain.release()


def test_passthrough_gives_the_same_pixels_top_row_first(ctx, pattern):
    out = run(ctx, [PassSpec("passthrough"), NEAREST], pattern)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, pattern)


def test_display_nearest_scales_to_exact_pixel_blocks(ctx, pattern):
    out = run(ctx, [NEAREST], pattern, size=(32, 32))
    np.testing.assert_array_equal(out, np.repeat(np.repeat(pattern, 4, 0), 4, 1))


def test_display_contain_letterboxes_a_square_image_on_a_wide_output(ctx, pattern):
    out = run(ctx, [NEAREST], pattern, size=(32, 16))
    # the 8x8 image becomes 16x16 in the middle, 8 black columns each side
    assert out[:, :8].max() == 0 and out[:, 24:].max() == 0
    np.testing.assert_array_equal(out[:, 8:24], np.repeat(np.repeat(pattern, 2, 0), 2, 1))


@pytest.mark.parametrize("filt", ["linear", "bicubic", "fsr"])
def test_smooth_filters_keep_a_flat_image_flat_and_a_ramp_monotonic(ctx, filt):
    ramp = np.repeat(np.linspace(0, 255, 16).astype(np.uint8)[None, :, None], 16, 0).repeat(3, 2)
    out = run(ctx, [PassSpec("display", params={"filter": filt})], ramp, size=(64, 64))
    row = out[32, 4:-4, 0].astype(int)
    assert np.all(np.diff(row) >= -1), row
    flat = np.full((16, 16, 3), 77, np.uint8)
    assert np.abs(run(ctx, [PassSpec("display", params={"filter": filt})], flat, size=(48, 48)).astype(int) - 77).max() <= 1


def test_colour_grade_saturation_zero_gives_grey(ctx, pattern):
    out = run(ctx, [PassSpec("colour_grade", params={"saturation": 0.0}), NEAREST], pattern).astype(int)
    assert np.abs(out[..., 0] - out[..., 1]).max() <= 1 and np.abs(out[..., 1] - out[..., 2]).max() <= 1
    luma = pattern.astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    assert np.abs(out[..., 1] - luma).max() <= 1.5


def test_colour_grade_exposure_brightens(ctx):
    grey = np.full((4, 4, 3), 60, np.uint8)
    out = run(ctx, [PassSpec("colour_grade", params={"exposure": 1.0}), NEAREST], grey)
    assert np.abs(out.astype(int) - 120).max() <= 1


def test_mirror_makes_the_left_half_the_mirror_of_the_right(ctx, pattern):
    out = run(ctx, [PassSpec("mirror", params={"axis": "horizontal"}), NEAREST], pattern)
    np.testing.assert_array_equal(out[:, :4], out[:, 4:][:, ::-1])
    np.testing.assert_array_equal(out[:, 4:], pattern[:, 4:])


def test_kaleidoscope_is_symmetric_about_the_centre(ctx):
    img = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    out = run(ctx, [PassSpec("kaleidoscope", params={"segments": 4}), NEAREST], img).astype(int)
    # 4 mirrored wedges: the image is symmetric under a 90 degree turn (up to a pixel of sampling)
    assert np.abs(out - np.rot90(out)).mean() < 12
    assert np.abs(out - img).mean() > 20


def test_side_by_side_puts_a_left_and_b_right(ctx):
    a = np.zeros((8, 8, 3), np.uint8)
    a[..., 0] = 200
    b = np.zeros((8, 8, 3), np.uint8)
    b[..., 2] = 150
    b[0, 0] = (1, 2, 3)
    chain = ShaderChain(ctx, [PassSpec("side_by_side"), NEAREST], (8, 8), (16, 8))
    try:
        chain.upload(a)
        chain.upload(b, slot=1)
        chain.render(0.0, 0)
        out = chain.read_pixels()
    finally:
        chain.release()
    np.testing.assert_array_equal(out[:, :8], a)
    np.testing.assert_array_equal(out[:, 8:], b)


@pytest.mark.parametrize("mix, expected", [(0.0, 40), (0.5, 120), (1.0, 200)])
def test_crossfade(ctx, mix, expected):
    a = np.full((8, 8, 3), 40, np.uint8)
    b = np.full((8, 8, 3), 200, np.uint8)
    out = run(ctx, [PassSpec("crossfade", params={"mix": mix}), NEAREST], a, slot1=b)
    assert np.abs(out.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("mode", ["wipe", "dissolve"])
def test_crossfade_modes_end_exactly_on_a_and_b(ctx, mode):
    a = np.full((8, 8, 3), 40, np.uint8)
    b = np.full((8, 8, 3), 200, np.uint8)
    for mix, expected in ((0.0, 40), (1.0, 200)):
        out = run(ctx, [PassSpec("crossfade", params={"mix": mix, "mode": mode}), NEAREST], a, slot1=b)
        assert np.abs(out.astype(int) - expected).max() <= 1, (mode, mix)
    half = run(ctx, [PassSpec("crossfade", params={"mix": 0.5, "mode": mode, "softness": 0.0}), NEAREST], a, slot1=b)
    assert (half == 40).any() and (half == 200).any()


def test_feedback_accumulates_over_frames(ctx):
    black = np.zeros((8, 8, 3), np.uint8)
    white = np.full((8, 8, 3), 255, np.uint8)
    chain = ShaderChain(ctx, [PassSpec("feedback", params={"decay": 0.5}), NEAREST], (8, 8), (8, 8))
    try:
        chain.upload(black)
        chain.render(0.0, 0)
        levels = []
        for f in range(1, 4):
            chain.upload(white)
            chain.render(f / 30, f)
            levels.append(int(chain.read_pixels()[4, 4, 0]))
        # mix(now, prev, 0.5) from black: 1/2, 3/4, 7/8 of white
        assert [abs(v - e) <= 2 for v, e in zip(levels, (128, 191, 223))] == [True] * 3, levels
        chain.upload(black)
        chain.render(0.2, 4)
        assert abs(int(chain.read_pixels()[4, 4, 0]) - 112) <= 2  # the trail fades, it does not vanish at once
    finally:
        chain.release()


def test_identity_passes_are_skipped(ctx, pattern):
    specs = [PassSpec(t) for t in ("colour_grade", "feedback", "crossfade", "pixelate", "rgb_shift", "posterize", "wave")]
    chain = ShaderChain(ctx, [*specs, NEAREST], (8, 8), (8, 8))
    try:
        assert all(chain.get_pass(s.type).is_identity() for s in specs)
        chain.upload(pattern)
        chain.render(0.0, 0)
        np.testing.assert_array_equal(chain.read_pixels(), pattern)
        chain.set_param("pixelate", "size", 2)
        chain.render(0.0, 1)
        out = chain.read_pixels()
        np.testing.assert_array_equal(out[::2, ::2], out[1::2, 1::2])
    finally:
        chain.release()


def test_set_param_errors_name_the_pass_and_the_parameter(ctx):
    chain = ShaderChain(ctx, [PassSpec("colour_grade", "grade")], (8, 8), (8, 8))
    try:
        with pytest.raises(PerformError, match=r"no parameter 'saturaton'.*saturation"):
            chain.set_param("grade", "saturaton", 0.5)
        with pytest.raises(PerformError, match=r"no pass named 'grad'.*grade"):
            chain.set_param("grad", "saturation", 0.5)
        chain.set_param("grade", "saturation", 99.0)  # live controllers overshoot: clamped
        assert chain.params("grade")["saturation"] == 3.0
    finally:
        chain.release()


def test_specs_are_validated_before_any_gl():
    with pytest.raises(PerformError, match=r"unknown pass type 'blurr'"):
        validate_spec(PassSpec("blurr"))
    with pytest.raises(PerformError, match=r"filter = 'cubic'; expected 'nearest', 'linear', 'bicubic'"):
        validate_spec(PassSpec("display", params={"filter": "cubic"}))
    with pytest.raises(PerformError, match=r"outside \[0.0, 0.99\]"):
        resolve_params("feedback", {"decay": 1.5})
    for name, cls in PASS_TYPES.items():
        assert cls.type_name == name
        for p in cls.params.values():
            assert p.min <= p.default <= p.max


def test_chain_rejects_duplicate_names_and_a_display_pass_in_the_middle(ctx):
    with pytest.raises(PerformError, match="used twice"):
        ShaderChain(ctx, [PassSpec("mirror"), PassSpec("mirror")], (8, 8), (8, 8))
    with pytest.raises(PerformError, match="only be the last"):
        ShaderChain(ctx, [PassSpec("display"), PassSpec("mirror")], (8, 8), (8, 8))


def test_upload_of_a_new_size_resizes_and_grey_shows_grey(ctx):
    chain = ShaderChain(ctx, [PassSpec("colour_grade", params={"contrast": 1.01}), NEAREST], (8, 8), (16, 16))
    try:
        grey = np.full((16, 16), 90, np.uint8)
        chain.upload(grey)
        assert chain.source_size == (16, 16)
        chain.render(0.0, 0)
        assert np.abs(chain.read_pixels().astype(int) - 90).max() <= 1
        with pytest.raises(PerformError, match="uint8"):
            chain.upload(np.zeros((8, 8, 3), np.float32))
    finally:
        chain.release()


def test_upload_with_the_same_version_is_skipped(ctx):
    chain = ShaderChain(ctx, [NEAREST], (4, 4), (4, 4))
    try:
        chain.upload(np.full((4, 4, 3), 10, np.uint8), version=1)
        chain.upload(np.full((4, 4, 3), 250, np.uint8), version=1)  # same version: not uploaded
        chain.render(0.0, 0)
        assert chain.read_pixels().max() == 10
    finally:
        chain.release()


def _touch_newer(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns + 1_000_000_000, time.time_ns())))


def test_hot_reload_keeps_the_last_good_program_and_reports_the_glsl_log(ctx, shader_copy):
    frag = shader_copy / "posterize.frag"
    chain = ShaderChain(ctx, [PassSpec("posterize", params={"levels": 2}), NEAREST], (4, 4), (4, 4),
                        library=ShaderLibrary(shader_copy))
    try:
        chain.upload(np.full((4, 4, 3), 100, np.uint8))
        chain.render(0.0, 0)
        assert chain.read_pixels().max() == 0  # 100/255 rounds down with 2 levels

        frag.write_text(frag.read_text().replace("floor(c * n + 0.5) / n", "floor(c * n + 0.5) / n +"))
        _touch_newer(frag)
        errors = chain.poll_shaders()
        assert len(errors) == 1 and isinstance(errors[0], ShaderCompileError)
        assert errors[0].name == "posterize.frag" and errors[0].log  # the driver's log, with a line number
        assert "posterize.frag" in chain.shader_errors
        chain.render(0.0, 1)
        assert chain.read_pixels().max() == 0  # the old program is still drawing
        assert chain.poll_shaders() == []  # reported once, not every poll

        frag.write_text(frag.read_text().replace("/ n +", "/ n * 0.0 + 1.0"))
        _touch_newer(frag)
        assert chain.poll_shaders() == []
        assert chain.shader_errors == {}
        chain.render(0.0, 2)
        assert chain.read_pixels().min() == 255  # the edited shader is live
    finally:
        chain.release()


def test_an_include_change_reloads_its_users(ctx, shader_copy):
    lib = ShaderLibrary(shader_copy)
    lib.load("mirror.frag")
    lib.load("fullscreen.vert")
    assert lib.poll() == set()
    _touch_newer(shader_copy / "common.glsl")
    assert lib.poll() == {"mirror.frag"}


def test_rgb_shift_and_wave_change_the_image(ctx):
    img = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for spec in (PassSpec("rgb_shift", params={"amount": 2}), PassSpec("wave", params={"amplitude": 0.1})):
        out = run(ctx, [spec, NEAREST], img)
        assert np.abs(out.astype(int) - img).mean() > 5, spec.type


def test_display_cover_crops_and_the_filter_switches_live(ctx, pattern):
    out = run(ctx, [PassSpec("display", params={"filter": "nearest", "fit": "cover"})], pattern, size=(32, 16))
    np.testing.assert_array_equal(out, np.repeat(np.repeat(pattern[2:6], 4, 0), 4, 1))
    chain = ShaderChain(ctx, [NEAREST], (8, 8), (32, 32))
    try:
        chain.upload(pattern)
        blocks = np.repeat(np.repeat(pattern, 4, 0), 4, 1)
        chain.set_param("display", "filter", "bicubic")
        chain.render(0.0, 0)
        assert not np.array_equal(chain.read_pixels(), blocks)
        chain.set_param("display", "filter", "nearest")
        chain.render(0.0, 1)
        np.testing.assert_array_equal(chain.read_pixels(), blocks)
    finally:
        chain.release()


@pytest.mark.parametrize("size", [(32, 16), (16, 32), (33, 17)])
def test_letterbox_bars_are_black_after_a_bright_frame(ctx, size):
    chain = ShaderChain(ctx, [PassSpec("display", params={"filter": "nearest"})], (8, 8), size)
    try:
        chain.upload(np.full((8, 8, 3), 255, np.uint8))
        chain.set_param("display", "fit", "stretch")
        chain.render(0.0, 0)
        assert chain.read_pixels().min() == 255
        chain.set_param("display", "fit", "contain")
        chain.render(0.0, 1)
        out = chain.read_pixels()
        side = min(size)
        assert (out == 255).all(axis=2).sum() == side * side
        assert (out == 0).all(axis=2).sum() == size[0] * size[1] - side * side
    finally:
        chain.release()


def test_a_layer_drawn_with_opacity_blends_over_the_one_below_bars_included(ctx):
    """A scene transition: the outgoing chain draws, the incoming one blends over it, each with its own fit."""
    out_size = (32, 16)
    below = ShaderChain(ctx, [PassSpec("display", params={"filter": "nearest", "fit": "stretch"})], (8, 8), out_size)
    over = ShaderChain(ctx, [PassSpec("display", params={"filter": "nearest", "fit": "contain"})], (8, 8), out_size)
    try:
        below.upload(np.full((8, 8, 3), 200, np.uint8))
        over.upload(np.full((8, 8, 3), 40, np.uint8))
        target = below.framebuffer
        below.render(0.0, 0)
        over.render(0.0, 0, target=target, flip_y=False, opacity=0.25)
        out = below.read_pixels().astype(int)
        # inside the incoming image's square: 3/4 of 200 and 1/4 of 40; in its bars: 3/4 of 200 and 1/4 of black
        assert np.abs(out[:, 8:24] - (0.75 * 200 + 0.25 * 40)).max() <= 1
        assert np.abs(out[:, :8] - 0.75 * 200).max() <= 1 and np.abs(out[:, 24:] - 0.75 * 200).max() <= 1
        over.render(0.0, 1, target=target, flip_y=False)  # drawn alone again: opaque, bars cleared
        out = below.read_pixels().astype(int)
        assert (out[:, 8:24] == 40).all() and (out[:, :8] == 0).all()
    finally:
        below.release()
        over.release()
