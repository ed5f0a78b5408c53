"""The pair model kind: loading, output modes, same latent on both, snapshot playback, bad files."""

import json

import numpy as np
import pytest
import torch

from perform.nets.checkpoint import CheckpointError
from perform.nets.kinds import MODEL_KINDS
from perform.nets.model import load_model
from perform.nets.pair import PairModel, random_pair, save_pair, warm_batchnorm
from perform.nets.vaegan import Generator, VAEGANConfig, tensor_to_images

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=16)


def _snapshots(n: int, seed: int = 0):
    torch.manual_seed(seed)
    snaps = []
    for _ in range(n):
        pair = []
        for _side in "ab":
            g = Generator(CFG)
            warm_batchnorm(g, [torch.randn(16, CFG.latent_dim)])  # real BatchNorm statistics, as after training
            pair.append({k: v.clone() for k, v in g.state_dict().items()})
        snaps.append(tuple(pair))
    return snaps


@pytest.fixture(scope="module")
def pair_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pair") / "pair-test"
    snaps = _snapshots(3)
    save_pair(path, snaps, {"name": "pair-test", "config": CFG.to_dict(), "snapshots": [{"step": s} for s in (0, 10, 20)]})
    return path, snaps


def _z(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(CFG.latent_dim).astype(np.float32)


def test_pair_loads_via_load_model_and_draws_two_different_halves(pair_file):
    model = load_model(pair_file[0], device="cpu")
    assert "pair" in MODEL_KINDS and isinstance(model, PairModel) and model.info.kind == "pair"
    out = model.generate(_z(0), crop=np.zeros((32, 32, 3), np.uint8), mix=1.0)  # crop ignored: no encoder
    assert out.shape == (32, 64, 3) and out.dtype == np.uint8 and model.output_shape == (32, 64)
    left, right = out[:, :32].astype(int), out[:, 32:].astype(int)
    assert np.abs(left - right).mean() > 2.0
    out2 = model.generate(_z(1))
    assert np.abs(out2[:, :32].astype(int) - left).mean() > 1.0
    assert np.abs(out2[:, 32:].astype(int) - right).mean() > 1.0


def test_modes(pair_file):
    model = load_model(pair_file[0], device="cpu")
    z = _z(2)
    both = model.generate(z)
    model.set_mode("a")
    assert model.output_shape == (32, 32) and np.array_equal(model.generate(z), both[:, :32])
    model.set_mode("b")
    assert np.array_equal(model.generate(z), both[:, 32:])
    model.set_mode("crossfade", 0.0)
    assert np.array_equal(model.generate(z), both[:, :32])
    model.set_mode("crossfade", 1.0)
    assert np.array_equal(model.generate(z), both[:, 32:])
    model.set_mode("crossfade", 0.5)
    mid = model.generate(z).astype(int)
    assert np.abs(mid - (both[:, :32].astype(int) + both[:, 32:]) / 2).max() <= 40
    with pytest.raises(ValueError, match="sideways"):
        model.set_mode("sideways")


def _reference(state) -> np.ndarray:
    g = Generator(CFG).eval()
    g.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    with torch.no_grad():
        return tensor_to_images(g(torch.as_tensor(_z(3)).reshape(1, -1)))[0]


def test_snapshot_position_0_and_1_are_the_end_snapshots(pair_file):
    path, _ = pair_file
    from perform.nets.checkpoint import load_checkpoint
    from perform.nets.pair import split_pair_tensors
    stored = split_pair_tensors(load_checkpoint(path)[0], str(path))  # fp16 as stored
    model = load_model(path, device="cpu")
    model.set_snapshot_position(0.0)
    first = model.generate(_z(3))
    assert np.array_equal(first[:, :32], _reference(stored[0][0])) and np.array_equal(first[:, 32:], _reference(stored[0][1]))
    model.set_snapshot_position(1.0)
    last = model.generate(_z(3))
    assert np.array_equal(last[:, :32], _reference(stored[-1][0])) and np.array_equal(last[:, 32:], _reference(stored[-1][1]))
    model.set_snapshot_position(0.25)  # between snapshot 0 and 1: differs from both ends
    mid = model.generate(_z(3))
    assert not np.array_equal(mid, first) and not np.array_equal(mid, last)
    model.set_snapshot_position(float("nan"))  # ignored, not a crash
    assert model.snapshot_position == 0.25


def test_directions_are_unit_vectors_of_the_latent_size(pair_file):
    model = load_model(pair_file[0], device="cpu")
    assert len(model.directions) >= 4
    for v in model.directions.values():
        assert v.shape == (CFG.latent_dim,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-4


def test_bad_pair_checkpoints_are_named(tmp_path, pair_file):
    snaps = _snapshots(2)
    p = tmp_path / "pair-short"
    save_pair(p, snaps, {"config": CFG.to_dict(), "snapshots": [{"step": 0}, {"step": 1}]})
    card = json.loads(p.with_suffix(".json").read_text())
    card["snapshots"] = card["snapshots"][:1]
    p.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="snapshots"):
        load_model(p, device="cpu")
    wrong = tmp_path / "pair-wrong"
    save_pair(wrong, snaps, {"config": {**CFG.to_dict(), "width": 4}, "snapshots": [{"step": 0}, {"step": 1}]})
    with pytest.raises(CheckpointError, match=r"snap0\.a"):
        load_model(wrong, device="cpu")


def test_random_pair_is_usable_before_any_training():
    model = random_pair(CFG, seed=1, device="cpu")
    assert model.info.untrained and model.generate(_z(0)).shape == (32, 64, 3)
