"""Nets placed for inference: channels_last changes no pixel; reduced precision is explicit, checked, bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from perform.engine.inference_child import build
from perform.nets import precision as prec
from perform.nets.model import load_model, random_vaegan
from perform.nets.pair import warm_batchnorm
from perform.nets.vaegan import VAEGANConfig

ROOT = Path(__file__).resolve().parents[2]
FACE64, PAIR = ROOT / "models" / "face-64", ROOT / "models" / "pair-tug-of-war"
# docs/performance.md: bf16 vs fp32 on the shipped face-64, 64 latents (seed 1234): max 5, mean 0.32 levels
BF16_MAX_U8, BF16_MEAN_U8 = 8, 0.5
needs_bf16 = pytest.mark.skipif(not prec.cpu_supports_bf16(), reason="this CPU has no bf16 kernels")


def latents(n: int, dim: int, seed: int = 1234) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def nets_of(model) -> list[torch.nn.Module]:
    return [getattr(model, n) for n in ("net", "gen_a", "gen_b") if hasattr(model, n)]


def conv_weights(model) -> list[torch.Tensor]:
    return [m.weight for net in nets_of(model) for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]


def contiguous(model):
    for net in nets_of(model):
        net.to(memory_format=torch.contiguous_format)
    assert not any(w.is_contiguous(memory_format=torch.channels_last) for w in conv_weights(model) if w.shape[1] > 1)
    return model


def untrained128():
    m = random_vaegan(VAEGANConfig(resolution=128, width=16), seed=0, device="cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        warm_batchnorm(m.net.generator, [torch.randn(8, m.latent_dim)])  # else a flat grey image: nothing to compare
    return m


def test_vaegan_channels_last_images_are_bit_identical_to_contiguous_ones():
    for make in (lambda: load_model(FACE64, "cpu"), untrained128):
        fast, plain = make(), make()
        if make is untrained128:
            plain.net.load_state_dict(fast.net.state_dict())
        contiguous(plain)
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in conv_weights(fast))
        r = fast.resolution
        crop = np.random.default_rng(5).integers(0, 256, (r, r, 3), dtype=np.uint8)
        assert np.array_equal(fast.encode(crop), plain.encode(crop))
        for z in latents(4, fast.latent_dim):
            a, b = fast.generate(z, crop, mix=0.6), plain.generate(z, crop, mix=0.6)
            assert a.std() > 5 and np.array_equal(a, b)


def test_pair_channels_last_images_are_bit_identical_to_contiguous_ones_at_every_snapshot():
    fast, plain = load_model(PAIR, "cpu"), contiguous(load_model(PAIR, "cpu"))
    for p in (0.0, 0.4, 1.0):
        fast.set_snapshot_position(p)
        plain.set_snapshot_position(p)
        for z in latents(2, fast.latent_dim):
            assert np.array_equal(fast.generate(z), plain.generate(z))
    # blending snapshots copies into the placed weights: the layout survives it
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in conv_weights(fast))


@needs_bf16
def test_bf16_on_the_shipped_model_stays_within_its_documented_error():
    ref, fast = load_model(FACE64, "cpu"), load_model(FACE64, "cpu", precision="bf16")
    assert next(fast.net.parameters()).dtype == torch.bfloat16
    d = np.stack([np.abs(ref.generate(z).astype(int) - fast.generate(z).astype(int)) for z in latents(64, ref.latent_dim)])
    assert 0 < d.max() <= BF16_MAX_U8 and d.mean() <= BF16_MEAN_U8  # 0 would mean bf16 never ran


@needs_bf16
def test_the_inference_child_rebuilds_a_model_in_its_precision():
    for model in (load_model(PAIR, "cpu", precision="bf16"), random_vaegan(seed=2, device="cpu", precision="bf16")):
        again = build(model.spec, "cpu")
        assert again.precision == "bf16" and all(p.dtype == torch.bfloat16 for n in nets_of(again) for p in n.parameters())
        z = latents(1, model.latent_dim)[0]
        assert np.array_equal(model.generate(z), again.generate(z))
    assert build(load_model(FACE64, "cpu").spec, "cpu").precision == "fp32"


def test_an_unknown_precision_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"--precision fp8: unknown; expected one of fp32, bf16, fp16"):
        load_model(FACE64, "cpu", precision="fp8")


def test_cli_refuses_an_unknown_precision_with_the_choices(capsys):
    from perform.cli import build_parser
    from perform.commands.live import PRECISIONS

    assert PRECISIONS == prec.PRECISIONS  # the CLI keeps its own copy (it must not import torch)
    for cmd in ("live", "rehearse"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([cmd, "--precision", "fp8"])
        assert "--precision: invalid choice: 'fp8' (choose from 'fp32', 'bf16', 'fp16')" in capsys.readouterr().err
        assert build_parser().parse_args([cmd]).precision == "fp32"


def test_bf16_on_a_cpu_without_it_and_fp16_on_a_cpu_are_refused_clearly(monkeypatch):
    monkeypatch.setattr(prec, "cpu_supports_bf16", lambda: False)
    with pytest.raises(ValueError, match=r"--precision bf16: this CPU .* has no bf16 kernels.*use fp32"):
        load_model(FACE64, "cpu", precision="bf16")
    with pytest.raises(ValueError, match=r"--precision fp16: for cuda or mps only"):
        random_vaegan(device="cpu", precision="fp16")


def test_perform_rehearse_refuses_fp16_on_a_cpu_as_a_user_error_before_rendering(tmp_path, capsys):
    from perform.cli import main

    out = tmp_path / "x.mp4"
    rc = main(["rehearse", "--synthetic", "--device", "cpu", "--precision", "fp16", "--to", "0.2", "--out", str(out)])
    assert rc == 2 and "--precision fp16: for cuda or mps only" in capsys.readouterr().err
    assert not out.exists()
