"""The shipped pair models: small, documented, loadable, and both generators alive at every snapshot."""

import json
from pathlib import Path

import numpy as np
import pytest

from perform.nets.model import load_model

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "models").glob("pair-*.safetensors"))


def test_at_least_two_pair_models_ship_from_different_recipes():
    cards = [json.loads(p.with_suffix(".json").read_text()) for p in SHIPPED]
    assert len(SHIPPED) >= 2 and {c["training"]["recipe"] for c in cards} == {"unstable-equilibrium"}
    assert len({c["recipe"]["name"] for c in cards}) == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_pair_model(path):
    assert path.stat().st_size < 8 * 1024 * 1024
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["kind"] == "pair" and "CPU" in card["training"]["hardware"] and card["training"]["steps"] > 0
    assert (ROOT / "recipes" / f"{card['recipe']['name']}.toml").exists()
    for key in ("a.colourfulness", "b.colourfulness", "a.diversity", "b.diversity", "critic_accuracy"):
        assert isinstance(card["metrics"][key], float)
    model = load_model(path, device="cpu")
    assert model.n_snapshots >= 4 and len(model.directions) >= 4
    z0, z1 = np.random.default_rng(0).standard_normal((2, model.latent_dim)).astype(np.float32)
    r = model.resolution
    for p in (0.0, 0.5, 1.0):
        model.set_snapshot_position(p)
        out = model.generate(z0)
        assert out.shape == (r, 2 * r, 3)
        assert np.abs(out[:, :r].astype(int) - out[:, r:].astype(int)).mean() > 1.0
    changed = np.abs(model.generate(z1).astype(int) - out.astype(int))
    assert changed[:, :r].mean() > 0.5 and changed[:, r:].mean() > 0.5
