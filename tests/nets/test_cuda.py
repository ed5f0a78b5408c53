"""The GPU path: the shipped models on CUDA in fp32/fp16/bf16 against the CPU's fp32 images, and VAE-GAN
training steps with amp. Skipped where torch sees no CUDA device (bounds documented in docs/performance.md,
not yet measured on a GPU)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from perform.nets.model import load_model

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

ROOT = Path(__file__).resolve().parents[2]
# (max, mean) uint8 levels against CPU fp32 over 32 latents; fp32 differs only by kernel choice (cuDNN vs oneDNN)
BOUNDS = {"fp32": (2, 0.05), "fp16": (8, 0.5), "bf16": (8, 0.5)}


def image_error(ref, model, n: int = 32) -> tuple[int, float]:
    zs = np.random.default_rng(1234).standard_normal((n, ref.latent_dim)).astype(np.float32)
    d = np.stack([np.abs(ref.generate(z).astype(int) - model.generate(z).astype(int)) for z in zs])
    return int(d.max()), float(d.mean())


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("name", ["face-64", "pair-tug-of-war"])
def test_shipped_models_on_cuda_match_the_cpu_within_the_documented_error(name, precision):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    ref = load_model(ROOT / "models" / name, "cpu")
    gpu = load_model(ROOT / "models" / name, "cuda", precision)
    mx, mean = image_error(ref, gpu)
    assert mx <= BOUNDS[precision][0] and mean <= BOUNDS[precision][1], (mx, mean)
    if hasattr(gpu, "encode"):  # the crop goes up through the pinned buffer, the face latent agrees
        crop = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        assert np.allclose(ref.encode(crop), gpu.encode(crop), atol=0.05 if precision == "fp32" else 0.5)
        z = np.zeros(ref.latent_dim, np.float32)
        assert np.abs(ref.generate(z, crop, 1.0).astype(int) - gpu.generate(z, crop, 1.0).astype(int)).mean() <= 2 * BOUNDS[precision][1] + 0.5


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
def test_two_vaegan_training_steps_with_amp_on_cuda(tmp_path, amp):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    sys.path.insert(0, str(ROOT / "tests" / "training"))
    from _vaegan_data import TINY, write_faces

    from perform.training.dataset import load_folder
    from perform.training.vaegan.config import TrainConfig
    from perform.training.vaegan.trainer import VAEGANTrainer

    t = VAEGANTrainer(TrainConfig(**{**TINY, "amp": amp}), load_folder(write_faces(tmp_path / "faces")), tmp_path / "run",
                      "cuda", progress=False)
    assert (t._scaler is not None) == (amp == "fp16")
    before = [p.detach().clone() for p in t.generator.parameters()]
    for _ in range(2):
        logs = t.train_step()
        assert all(np.isfinite(v) for v in logs.values()), logs
    assert any(not torch.equal(a, b) for a, b in zip(before, t.generator.parameters()))
