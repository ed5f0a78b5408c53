"""The generator stage: latents to images, the face crop's encoder mean mixed in."""

from __future__ import annotations

import numpy as np

from perform.nets.model import random_vaegan
from perform.nets.vaegan import VAEGANConfig


def test_two_different_latents_decode_to_different_images_and_one_latent_to_the_same():
    m = random_vaegan(VAEGANConfig(resolution=32, latent_dim=16, width=16), seed=3, device="cpu")
    z1 = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    z2 = np.random.default_rng(2).standard_normal(16).astype(np.float32)
    a, b, a2 = m.generate(z1), m.generate(z2), m.generate(z1)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, a2)
    assert np.abs(a.astype(int) - b.astype(int)).sum() > 0


def test_mix_moves_the_latent_towards_the_face_crops_encoder_mean():
    m = random_vaegan(VAEGANConfig(resolution=32, latent_dim=16, width=16), seed=3, device="cpu")
    z = np.zeros(16, np.float32)
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    zf = m.encode(crop)
    assert zf.shape == (16,) and np.abs(zf).sum() > 0
    only_control = m.generate(z, crop, mix=0.0)
    only_face = m.generate(z, crop, mix=1.0)
    assert np.array_equal(only_control, m.generate(z))  # mix 0 ignores the crop
    assert np.array_equal(only_face, m.generate(zf))    # mix 1 is the face's own latent
