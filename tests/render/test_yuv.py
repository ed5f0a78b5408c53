"""RGB -> I420 with OpenCV matches FFmpeg's own conversion (what the H.264 writer used before) on a photograph."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from perform.render.yuv import i420_shape, rgb_to_i420
from perform.resources import REPO_ROOT

PHOTO = REPO_ROOT / "perform" / "assets" / "astronaut.jpg"


def _photo(w: int, h: int) -> np.ndarray:
    bgr = cv2.imread(str(PHOTO))
    return np.ascontiguousarray(cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)[..., ::-1])


def _swscale(rgb: np.ndarray) -> np.ndarray:
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()


@pytest.mark.parametrize("size", [(320, 240), (322, 186)])  # 186: chroma planes that do not fill whole rows
def test_i420_matches_ffmpegs_conversion_within_a_level_or_two(size):
    rgb = _photo(*size)
    ours, theirs = rgb_to_i420(rgb).astype(int), _swscale(rgb).astype(int)
    assert ours.shape == theirs.shape == i420_shape(*size)
    h = size[1]
    luma, chroma = np.abs(ours[:h] - theirs[:h]), np.abs(ours[h:] - theirs[h:])
    assert luma.max() <= 1
    # the chroma of each 2x2 block is its average (here within 6 levels, mean 0.3, of swscale's filter): OpenCV's own
    # I420 takes one pixel's and is 18-20 levels off on the photo's colour edges, mean 0.8-0.9
    assert chroma.max() <= 8 and chroma.mean() < 0.4, (chroma.max(), chroma.mean())


def test_i420_into_a_given_buffer_and_back_to_rgb_looks_the_same():
    rgb = _photo(256, 144)
    out = np.zeros(i420_shape(256, 144), np.uint8)
    assert rgb_to_i420(rgb, out=out) is out
    back = av.VideoFrame.from_ndarray(out, format="yuv420p").to_ndarray(format="rgb24").astype(float)
    ref = av.VideoFrame.from_ndarray(_swscale(rgb), format="yuv420p").to_ndarray(format="rgb24").astype(float)
    psnr = lambda a: 10 * np.log10(255 ** 2 / np.mean((a - rgb) ** 2))  # noqa: E731
    assert psnr(back) > psnr(ref) - 0.3, (psnr(back), psnr(ref))
