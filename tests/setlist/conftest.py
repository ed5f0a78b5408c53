"""Fixtures for setlist tests: tiny real checkpoints written to a temporary models/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from perform.nets.checkpoint import save_checkpoint
from perform.nets.pair import save_pair
from perform.nets.vaegan import VAEGAN, Generator, VAEGANConfig

TINY = dict(resolution=32, width=8, max_channels=16)


def write_vaegan(path: Path, latent_dim: int = 8, seed: int = 0) -> Path:
    """A small untrained VAE-GAN checkpoint (32 px) with one named direction."""
    cfg = VAEGANConfig(latent_dim=latent_dim, **TINY)
    torch.manual_seed(seed)
    net = VAEGAN(cfg, with_critic=False)
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
    direction = [1.0] + [0.0] * (latent_dim - 1)
    card = {"name": path.stem, "kind": "vaegan", "config": cfg.to_dict(), "untrained": True,
            "directions": {"smile": direction}}
    return save_checkpoint(path, tensors, card)


def write_pair(path: Path, latent_dim: int = 8, seed: int = 0) -> Path:
    """A small untrained data-free pair checkpoint (one snapshot)."""
    cfg = VAEGANConfig(latent_dim=latent_dim, **TINY)
    torch.manual_seed(seed)
    snaps = [(Generator(cfg).state_dict(), Generator(cfg).state_dict())]
    card = {"name": path.stem, "config": cfg.to_dict(), "untrained": True, "snapshots": [{"step": 0}]}
    return save_pair(path, snaps, card)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A models/ folder with tiny-a (latent 8) and tiny-b (latent 6)."""
    d = tmp_path_factory.mktemp("models")
    write_vaegan(d / "tiny-a", 8, 0)
    write_vaegan(d / "tiny-b", 6, 1)
    return d


@pytest.fixture
def show_dir(tmp_path, model_dir, monkeypatch) -> Path:
    """A folder to write setlists into; models resolve from `model_dir` by stem."""
    monkeypatch.setenv("PERFORM_MODELS", str(model_dir))
    return tmp_path
