"""The shipped face-64-diverged: its card's distances from the data rise along the trajectory, position 0 is
face-64 bit for bit, and blending face-64 with it at alpha 1 is its last snapshot."""

from __future__ import annotations

import json

import numpy as np
import torch

from perform.nets.blend import build_blend
from perform.nets.model import load_model
from perform.setlist.paths import shipped_models_dir

DIVERGED = shipped_models_dir() / "face-64-diverged.json"
BASE = shipped_models_dir() / "face-64.json"


def _zs(n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.standard_normal(64).astype(np.float32) for _ in range(n)]


def test_card_distances_rise_along_the_trajectory():
    card = json.loads(DIVERGED.read_text())
    for key in ("pixel_distance", "encoder_distance"):
        d = card["distance"][key]
        assert len(d) == len(card["snapshots"]) >= 5
        assert all(x < y for x, y in zip(d, d[1:])), (key, d)
        assert d[-1] > 2.5 * d[0], (key, d)
    assert card["base"]["name"] == "face-64" and card["kind"] == "trajectory"
    assert DIVERGED.with_suffix(".safetensors").stat().st_size < 12_000_000


def test_position_0_is_face_64_and_alpha_1_is_the_last_snapshot():
    traj, base = load_model(DIVERGED, "cpu"), load_model(BASE, "cpu")
    blend = build_blend(BASE, DIVERGED, torch.device("cpu"), defaults={"blend.alpha": 1.0})
    traj.set_net_params({"trajectory.position": 0.0})
    for z in _zs():
        assert np.array_equal(traj.generate(z), base.generate(z))
    traj.set_net_params({"trajectory.position": 1.0})
    for z in _zs():
        last = traj.generate(z)
        assert np.array_equal(blend.generate(z), last)
        assert np.abs(last.astype(int) - base.generate(z).astype(int)).mean() > 20  # far from the face
