"""Trajectory playback: position 0 and 1 are the first and last snapshot bit for bit, a snapshot's own
position is that snapshot, in between is neither; bad values never reach the net."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from perform.nets.checkpoint import CheckpointError, save_checkpoint
from perform.nets.model import load_model
from perform.nets.trajectory import save_trajectory
from perform.nets.vaegan import VAEGAN, Generator, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=16)
Z = np.random.default_rng(5).standard_normal(CFG.latent_dim).astype(np.float32)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 3-snapshot trajectory, and each snapshot saved as a plain VAE-GAN with the same encoder."""
    d = tmp_path_factory.mktemp("traj")
    torch.manual_seed(0)
    encoder = VAEGAN(CFG, with_critic=False).encoder.state_dict()
    snaps = [Generator(CFG).state_dict() for _ in range(3)]
    path = save_trajectory(d / "t", encoder, snaps, {"name": "t", "config": CFG.to_dict(),
                                                      "snapshots": [{"step": k} for k in range(3)]})
    singles = []
    for k, s in enumerate(snaps):
        tensors = {f"encoder.{n}": v for n, v in encoder.items()} | {f"generator.{n}": v.half() if v.is_floating_point() else v
                                                                      for n, v in s.items()}
        singles.append(save_checkpoint(d / f"s{k}", tensors, {"kind": "vaegan", "name": f"s{k}", "config": CFG.to_dict()}))
    return path, singles


def test_positions_on_snapshots_are_those_snapshots_exactly(run):
    path, singles = run
    m = load_model(path, "cpu")
    assert m.info.kind == "trajectory" and m.n_snapshots == 3
    want = [load_model(p, "cpu").generate(Z) for p in singles]
    assert not np.array_equal(want[0], want[2])
    for pos, k in ((0.0, 0), (1.0, 2), (0.5, 1), (0.0, 0)):
        m.set_net_params({"trajectory.position": pos})
        assert np.array_equal(m.generate(Z), want[k]), pos
    m.set_net_params({"trajectory.position": 0.25})
    between = m.generate(Z)
    assert not np.array_equal(between, want[0]) and not np.array_equal(between, want[1])


def test_non_finite_position_is_ignored(run):
    m = load_model(run[0], "cpu")
    m.set_net_params({"trajectory.position": 1.0})
    want = m.generate(Z)
    for bad in (math.nan, math.inf, -math.inf):
        m.set_net_params({"trajectory.position": bad})
        assert m.params.values["trajectory.position"] == 1.0
        assert np.array_equal(m.generate(Z), want)
    assert m.net_params() == {"trajectory.position": (0.0, 1.0, 0.0)}


def test_misnumbered_snapshots_are_refused_naming_the_file(tmp_path, run):
    encoder = VAEGAN(CFG, with_critic=False).encoder.state_dict()
    g = Generator(CFG).state_dict()
    tensors = {f"encoder.{k}": v for k, v in encoder.items()} | {f"snap1.g.{k}": v for k, v in g.items()}
    save_checkpoint(tmp_path / "bad", tensors, {"kind": "trajectory", "name": "bad", "config": CFG.to_dict(),
                                               "snapshots": [{"step": 0}]})
    with pytest.raises(CheckpointError, match=r"bad: snapshots should be numbered snap0 \.\. snap<n-1>"):
        load_model(tmp_path / "bad", "cpu")
