"""Conductor details: where seeded keyframes live, the drift when the camera is lost."""

from __future__ import annotations

import numpy as np

from perform.engine.conductor import Drift, data_latents
from perform.nets.checkpoint import ModelInfo


class _Model:
    def __init__(self, card):
        self.info = ModelInfo("m", "vaegan", False, card)


def test_seeded_keyframes_move_to_the_models_measured_latent_distribution():
    draws = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    stats = {"latent_stats": {"mean": [1.0, -1.0, 0.0, 2.0], "std": [0.5, 0.5, 1.0, 0.1]}}
    moved = data_latents(draws, _Model(stats))
    assert np.allclose(moved, np.array([1.0, -1.0, 0.0, 2.0]) + np.array([0.5, 0.5, 1.0, 0.1]) * draws)
    assert np.array_equal(data_latents(draws, _Model({})), draws)  # no stats: as drawn
    wrong = {"latent_stats": {"mean": [0.0] * 3, "std": [1.0] * 3}}
    assert np.array_equal(data_latents(draws, _Model(wrong)), draws)  # stats of another latent size: ignored


def test_drift_is_slow_smooth_and_a_function_of_time():
    d = Drift(16, seed=7)
    a, b = d.at(10.0), d.at(10.0 + 1 / 30)
    assert np.array_equal(d.at(10.0), Drift(16, seed=7).at(10.0))  # deterministic: the fixed clock relies on it
    assert 0 < np.abs(b - a).max() < 0.05                          # one frame moves it a little
    assert np.abs(d.at(20.0) - a).max() > 0.3                      # ten seconds move it a lot
