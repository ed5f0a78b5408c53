"""The fsr display filter (shaders/fsr.glsl) rendered through EGL: sharper edges than linear and bicubic,
no ringing, flat stays flat, sharpness acts, and it fits, letterboxes and fades like the other filters."""

from __future__ import annotations

import numpy as np
import pytest

from perform.render.chain import ShaderChain
from perform.render.passes import PassSpec

pytestmark = pytest.mark.gl

LO, HI = 40, 200


def render(ctx, image, size, **params):
    h, w = image.shape[:2]
    chain = ShaderChain(ctx, [PassSpec("display", params=params)], (w, h), size)
    try:
        chain.upload(image)
        chain.render(0.0, 0)
        return chain.read_pixels()
    finally:
        chain.release()


def diagonal_edge(antialiased: bool, n: int = 16) -> np.ndarray:
    """An n x n grey image, LO left of a line and HI right of it: antialiased, the line x = y / 2 + 4 (63
    degrees) with each pixel's coverage from 8x8 samples; else a hard 45 degree staircase (x > y)."""
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    if antialiased:
        s = (np.arange(8) + 0.5) / 8
        cover = np.mean([(xx + a) - 0.5 * (yy + b) - 4 > 0 for a in s for b in s], axis=0)
    else:
        cover = (xx > yy).astype(float)
    return (LO + (HI - LO) * cover).round().astype(np.uint8)[:, :, None].repeat(3, 2)


def transition_width(out: np.ndarray) -> float:
    """Mean number of pixels per row between 10% and 90% of the step (away from the image's border)."""
    o = out[16:-16, 16:-16, 0].astype(int)
    return float(((o > LO + 0.1 * (HI - LO)) & (o < HI - 0.1 * (HI - LO))).sum(axis=1).mean())


def mean_gradient(out: np.ndarray) -> float:
    gy, gx = np.gradient(out[16:-16, 16:-16, 0].astype(float))
    g = np.hypot(gx, gy)
    return float(g[g > 1].mean())  # over the edge, not the flat sides


@pytest.mark.parametrize("antialiased", [True, False], ids=["antialiased", "hard"])
def test_fsr_upscales_a_diagonal_edge_sharper_than_linear_and_bicubic_without_ringing(ctx, antialiased):
    image = diagonal_edge(antialiased)
    outs = {f: render(ctx, image, (128, 128), filter=f) for f in ("linear", "bicubic", "fsr")}
    widths = {f: transition_width(o) for f, o in outs.items()}
    grads = {f: mean_gradient(o) for f, o in outs.items()}
    # a narrower transition and a steeper one: at least 20% better than either
    assert widths["fsr"] < 0.8 * min(widths["linear"], widths["bicubic"]), widths
    assert grads["fsr"] > 1.2 * max(grads["linear"], grads["bicubic"]), grads
    # deringing: nothing darker or brighter than the two sides (bicubic rings here; fsr must not)
    fsr = outs["fsr"].astype(int)
    assert fsr.min() >= LO - 1 and fsr.max() <= HI + 1, (fsr.min(), fsr.max())
    # and the edge where it was: the bottom-left corner dark, the top-right bright
    assert (fsr[-4:, :4] <= LO + 1).all() and (fsr[:4, -4:] >= HI - 1).all()


@pytest.mark.parametrize("sharpness", [0.0, 1.0])
def test_fsr_stays_within_the_texels_it_reads_on_a_textured_image(ctx, sharpness):
    """Deringing on detail: each output pixel within the min/max (+ 1 level) of the 12 texels EASU reads
    for it (its footprint: the 2x2 quad around it and their neighbours); sharpening stays inside too."""
    n, scale = 12, 8
    image = np.random.default_rng(3).integers(0, 256, (n, n, 3), dtype=np.uint8)
    out = render(ctx, image, (n * scale, n * scale), filter="fsr", sharpness=sharpness).astype(int)
    pad = np.pad(image.astype(int), ((2, 3), (2, 3), (0, 0)), mode="edge")  # texel t at pad[t + 2]
    taps = [(0, -1), (1, -1), (-1, 0), (0, 0), (1, 0), (2, 0), (-1, 1), (0, 1), (1, 1), (2, 1), (0, 2), (1, 2)]
    quads = np.arange(-1, n)  # the top-left texel of the quad a pixel lies in
    foot = np.stack([pad[quads[:, None] + dy + 2, quads[None, :] + dx + 2] for dx, dy in taps])
    lo, hi = foot.min(0), foot.max(0)  # (n + 1, n + 1, 3) per quad
    q = np.floor((np.arange(n * scale) + 0.5) / scale - 0.5).astype(int) + 1  # pixel -> quad index
    lo, hi = lo[q[:, None], q[None, :]], hi[q[:, None], q[None, :]]
    assert (out >= lo - 1).all() and (out <= hi + 1).all(), (np.abs(np.minimum(out - lo, hi - out)).max())


@pytest.mark.parametrize("level", [0, 77, 255])
def test_fsr_keeps_a_flat_image_flat(ctx, level):
    flat = np.full((16, 16, 3), level, np.uint8)
    out = render(ctx, flat, (48, 48), filter="fsr", sharpness=1.0)
    assert np.abs(out.astype(int) - level).max() <= 1


def test_sharpness_sharpens(ctx):
    rng = np.random.default_rng(5)
    image = (rng.random((16, 16, 3)) * 120 + 60).astype(np.uint8)  # mid-tones: room to sharpen both ways
    soft = render(ctx, image, (96, 96), filter="fsr", sharpness=0.0).astype(int)
    sharp = render(ctx, image, (96, 96), filter="fsr", sharpness=1.0).astype(int)
    assert np.abs(sharp - soft).mean() > 1.0
    # sharper means steeper: more change from pixel to pixel
    assert np.abs(np.diff(sharp, axis=1)).mean() > 1.05 * np.abs(np.diff(soft, axis=1)).mean()


def test_fsr_follows_the_fit_the_flip_and_a_new_source_size(ctx, pattern):
    chain = ShaderChain(ctx, [PassSpec("display", params={"filter": "fsr"})], (8, 8), (64, 32))
    try:
        chain.upload(pattern)
        chain.render(0.0, 0)
        image_order = chain.read_pixels()
        # a window's target is bottom-up: the same picture, flipped
        chain.render(0.0, 1, target=chain.framebuffer, flip_y=True)
        np.testing.assert_array_equal(chain.read_pixels(), image_order[::-1])
        # the source grows: the pass's own source-sized targets follow
        chain.upload(np.full((16, 16, 3), 90, np.uint8))
        chain.render(0.0, 2)
        out = chain.read_pixels().astype(int)
        assert (out[:, :16] == 0).all() and (out[:, 48:] == 0).all()
        assert np.abs(out[:, 16:48] - 90).max() <= 1
    finally:
        chain.release()


def test_fsr_letterboxes_and_fades_over_the_layer_below(ctx):
    """As the other filters: bars black after a bright frame; with opacity, blended over the layer below."""
    out_size = (32, 16)
    below = ShaderChain(ctx, [PassSpec("display", params={"filter": "nearest", "fit": "stretch"})], (8, 8), out_size)
    over = ShaderChain(ctx, [PassSpec("display", params={"filter": "fsr", "fit": "stretch"})], (8, 8), out_size)
    try:
        over.upload(np.full((8, 8, 3), 255, np.uint8))
        over.render(0.0, 0)
        assert over.read_pixels().min() == 255
        over.set_param("display", "fit", "contain")
        over.upload(np.full((8, 8, 3), 40, np.uint8))
        over.render(0.0, 1)
        out = over.read_pixels().astype(int)
        assert (out[:, :8] == 0).all() and (out[:, 24:] == 0).all() and np.abs(out[:, 8:24] - 40).max() <= 1
        # a transition: 1/4 of the incoming fsr layer over the outgoing one, its bars black
        below.upload(np.full((8, 8, 3), 200, np.uint8))
        target = below.framebuffer
        below.render(0.0, 0)
        over.render(0.0, 2, target=target, flip_y=False, opacity=0.25)
        out = below.read_pixels().astype(int)
        assert np.abs(out[:, 8:24] - (0.75 * 200 + 0.25 * 40)).max() <= 1
        assert np.abs(out[:, :8] - 0.75 * 200).max() <= 1 and np.abs(out[:, 24:] - 0.75 * 200).max() <= 1
        # the prep pass ran unblended: the next opaque frame is the image again, not a blend of old targets
        over.render(0.0, 3, target=target, flip_y=False)
        out = below.read_pixels().astype(int)
        assert np.abs(out[:, 8:24] - 40).max() <= 1 and (out[:, :8] == 0).all()
    finally:
        below.release()
        over.release()


def test_the_filter_switches_to_fsr_and_back_live(ctx, pattern):
    chain = ShaderChain(ctx, [PassSpec("display", params={"filter": "linear"})], (8, 8), (32, 32))
    try:
        chain.upload(pattern)
        chain.render(0.0, 0)
        linear = chain.read_pixels()
        chain.set_param("display", "filter", "fsr")
        chain.render(0.0, 1)
        assert np.abs(chain.read_pixels().astype(int) - linear).max() > 8
        chain.set_param("display", "filter", "linear")
        chain.render(0.0, 2)
        np.testing.assert_array_equal(chain.read_pixels(), linear)
    finally:
        chain.release()
