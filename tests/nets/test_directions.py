"""Latent directions: PCA, SeFa and feature regressions recover planted structure; the card stores them."""

from __future__ import annotations

import numpy as np
import torch

from perform.nets.directions import feature_directions, pca_directions, sefa_directions
from perform.nets.generative import card_directions
from perform.nets.vaegan import Generator, VAEGANConfig


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_pca_finds_the_widest_axis_first():
    rng = np.random.default_rng(0)
    axis = rng.normal(size=16)
    axis /= np.linalg.norm(axis)
    means = rng.normal(size=(500, 16)) * 0.1 + rng.normal(size=(500, 1)) * 3.0 * axis
    dirs = pca_directions(means, k=4)
    assert list(dirs) == ["pc0", "pc1", "pc2", "pc3"]
    assert _cos(dirs["pc0"]["vector"], axis) > 0.99 and dirs["pc0"]["score"] > 0.9 and dirs["pc0"]["kind"] == "pca"
    assert dirs["pc0"]["score"] >= dirs["pc1"]["score"]


def test_sefa_finds_the_direction_the_first_layer_amplifies():
    g = Generator(VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=16))
    with torch.no_grad():
        g.fc.weight.mul_(0.01)
        g.fc.weight[:, 3] += 1.0  # latent coordinate 3 drives the first layer hardest
    dirs = sefa_directions(g, k=3)
    assert _cos(dirs["sefa0"]["vector"], np.eye(8)[3]) > 0.99 and dirs["sefa0"]["kind"] == "sefa"


def test_feature_regression_recovers_a_planted_direction_and_skips_missing_features():
    rng = np.random.default_rng(1)
    w = rng.normal(size=16)
    means = rng.normal(size=(300, 16))
    names = ("mouth_open", "yaw", "pitch")
    feats = np.full((300, 3), np.nan)
    feats[:, 0] = means @ w * 0.1 + rng.normal(size=300) * 0.05  # mouth_open: linear in the latent
    feats[:, 1] = rng.normal(size=300)                           # yaw: unrelated noise
    dirs = feature_directions(means, feats, names)
    assert set(dirs) == {"mouth_open", "yaw"}  # pitch has no values
    assert _cos(dirs["mouth_open"]["vector"], w) > 0.98 and dirs["mouth_open"]["score"] > 0.8
    assert dirs["yaw"]["score"] < 0.1  # cross-validated: noise does not score
    # the card format the live loop reads
    got = card_directions({"directions": dirs}, 16)
    assert np.isclose(np.linalg.norm(got["mouth_open"]), 1.0)
