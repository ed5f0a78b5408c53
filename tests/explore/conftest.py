"""Fixtures for explore: small checkpoints on disk (with directions and latent_stats, as a trained card has)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from perform.explore.genome import space_of
from perform.explore.identity import identify
from perform.nets.checkpoint import save_checkpoint
from perform.nets.model import load_model
from perform.nets.vaegan import VAEGAN, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=16, width=16, max_channels=64)


def write_model(path: Path, seed: int = 0, name: str | None = None) -> Path:
    torch.manual_seed(seed)
    net = VAEGAN(CFG, with_critic=False)
    with torch.no_grad():  # random weights give a nearly flat grey; a high-gain output layer shows the latent
        net.generator.to_rgb.weight.mul_(30.0)
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
    z = CFG.latent_dim
    rng = np.random.default_rng(seed)
    card = {"kind": "vaegan", "name": name or path.stem, "config": CFG.to_dict(), "untrained": True,
            "directions": {"mouth_open": [1.0] + [0.0] * (z - 1), "tilt": [0.0, 0.6, 0.8] + [0.0] * (z - 3)},
            "latent_stats": {"mean": [round(float(x), 6) for x in rng.normal(0, 0.5, z)],
                             "std": [round(float(x), 6) for x in rng.uniform(0.5, 1.5, z)]}}
    save_checkpoint(path, tensors, card)
    return path.with_suffix(".json")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("explore-models")
    write_model(d / "tiny", seed=0)
    write_model(d / "other" / "tiny", seed=1)  # the same name, other weights
    write_model(d / "tiny-b", seed=2)
    return d


@pytest.fixture(scope="session")
def tiny(model_dir):
    """(model, space, identity, card path) of the small model."""
    card = model_dir / "tiny.json"
    model = load_model(card, "cpu")
    return model, space_of(model), identify(model, card), card
