"""Training metrics against scikit-image's reference implementations, on the astronaut photograph."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.data import astronaut
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from perform.nets.vaegan import images_to_tensor
from perform.training.metrics import colourfulness_mean, diversity, psnr, ssim


@pytest.fixture(scope="module")
def pair():
    img = astronaut()[40:200, 140:300]  # (160, 160, 3) uint8, the face
    rng = np.random.default_rng(0)
    noisy = np.clip(img.astype(np.float64) + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    return img, noisy


def test_ssim_and_psnr_match_skimage(pair):
    a, b = pair
    want_ssim = structural_similarity(a / 255.0, b / 255.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=1.0)
    want_psnr = peak_signal_noise_ratio(a, b, data_range=255)
    ta, tb = images_to_tensor(a), images_to_tensor(b)
    assert ssim(ta, tb).item() == pytest.approx(want_ssim, abs=1e-4)
    assert psnr(ta, tb).item() == pytest.approx(want_psnr, abs=1e-3)
    assert ssim(ta, ta).item() == pytest.approx(1.0, abs=1e-6)


def test_diversity_is_zero_for_copies_and_grows_with_spread(pair):
    a, _ = pair
    t = images_to_tensor(a)
    assert diversity(t.repeat(4, 1, 1, 1)) == pytest.approx(0.0, abs=1e-4)
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    assert diversity(x * 0.1) < diversity(x)
    assert colourfulness_mean(t) > colourfulness_mean(t.mean(1, keepdim=True).repeat(1, 3, 1, 1)) + 10
