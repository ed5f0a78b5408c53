"""The VAE-GAN training loop on tiny 32 px models: learning, gradient penalty, exact resume, NaN rollback."""

from __future__ import annotations

import math

import pytest
import torch

from _vaegan_data import TINY, write_faces
from perform.nets.checkpoint import load_checkpoint
from perform.nets.model import load_model
from perform.nets.vaegan import Critic
from perform.training.vaegan.config import TrainConfig, resolve
from perform.training.dataset import load_folder
from perform.training.vaegan.trainer import CHECKPOINT, MODEL, VAEGANTrainer, ema_decay_at, get_lr, gradient_penalty


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return load_folder(write_faces(tmp_path_factory.mktemp("faces")))


def _trainer(faces, out, **over) -> VAEGANTrainer:
    torch.set_num_threads(1)
    return VAEGANTrainer(TrainConfig(**{**TINY, **over}), faces, out, progress=False)


def _state(t: VAEGANTrainer) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, m in (("e", t.encoder), ("g", t.generator), ("ema", t.generator_ema), ("d", t.critic))
            for k, v in m.state_dict().items()}


@torch.no_grad()
def _recon_l1(t: VAEGANTrainer) -> float:
    t.encoder.eval()
    x = t._images.float().div(127.5).sub(1.0)
    out = float((t.generator_ema(t.encoder(x)[0]) - x).abs().mean())
    t.encoder.train()
    return out


def test_a_few_hundred_steps_lower_the_reconstruction_error(faces, tmp_path):
    t = _trainer(faces, tmp_path, steps=120, lr_g=2e-3, lr_d=5e-4, augment=False, lr_decay="constant", ema_decay=0.5)
    before = _recon_l1(t)
    for _ in range(120):
        t.train_step()
    after = _recon_l1(t)
    assert after < 0.6 * before, (before, after)
    m = t.evaluate()
    assert m["psnr_db"] > 14 and 0 < m["ssim"] <= 1 and m["diversity"] > 0


def test_gradient_penalty_is_taken_on_interpolates_and_is_nonzero():
    torch.manual_seed(0)
    critic = Critic(TrainConfig(**TINY).model_config())
    seen = []
    orig = critic.forward
    critic.forward = lambda x: (seen.append(x.detach().clone()), orig(x))[1]
    real, fake = torch.rand(4, 3, 32, 32) * 2 - 1, torch.rand(4, 3, 32, 32) * 2 - 1
    alpha = torch.rand(4, 1, 1, 1)
    gp = gradient_penalty(critic, real, fake, alpha)
    assert torch.allclose(seen[0], real + alpha * (fake - real))
    assert not torch.allclose(seen[0], real) and not torch.allclose(seen[0], fake)
    assert gp.item() > 0 and gp.requires_grad  # it trains the critic: a graph through the input gradient
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.parameters())


def test_schedules_are_pure_functions_of_the_step():
    cfg = TrainConfig(**{**TINY, "steps": 100, "warmup_steps": 10, "lr_min_frac": 0.1})
    assert get_lr(0, 1.0, cfg) < get_lr(9, 1.0, cfg) <= 1.0
    assert get_lr(10, 1.0, cfg) == pytest.approx(1.0)
    assert get_lr(100, 1.0, cfg) == pytest.approx(0.1)
    assert ema_decay_at(0, 0.999) < 0.2 and ema_decay_at(10**6, 0.999) == 0.999


def test_checkpoint_resumes_exactly(faces, tmp_path):
    a = _trainer(faces, tmp_path / "a")
    for _ in range(3):
        a.train_step()
    a.out.mkdir(parents=True)
    a.save()
    for _ in range(3):
        a.train_step()

    b = _trainer(faces, tmp_path / "b")
    for _ in range(2):  # move weights, optimizer, data order and noise away: all must come back from the file
        b.train_step()
    b.load(tmp_path / "a" / CHECKPOINT)
    assert b.step == 3
    for _ in range(3):
        b.train_step()
    sa, sb = _state(a), _state(b)
    assert all(torch.equal(sa[k], sb[k]) for k in sa), [k for k in sa if not torch.equal(sa[k], sb[k])][:3]
    assert a.sampler.state() == b.sampler.state() and a.d_iter == b.d_iter


def test_exported_model_loads_with_load_model_and_matches(faces, tmp_path):
    t = _trainer(faces, tmp_path)
    t.train_step()
    t.out.mkdir(parents=True, exist_ok=True)
    t.save()
    model = load_model(tmp_path / MODEL, device="cpu")
    assert model.info.kind == "vaegan" and model.resolution == 32
    z = torch.randn(1, 16)
    with torch.no_grad():
        t.generator_ema.eval()
        want = ((t.generator_ema(z).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    assert (model.generate(z[0].numpy()) == want).all()
    tensors, card = load_checkpoint(tmp_path / MODEL)
    assert not any(k.startswith(("critic.", "opt_", "generator.")) for k in tensors)
    assert card["data"]["fingerprint"].startswith("sha256:") and card["data"]["size"] == 40
    assert set(card["metrics"]) >= {"psnr_db", "ssim", "diversity", "colourfulness"} or card["metrics"] == {}


def test_nan_rolls_back_to_the_last_checkpoint_with_a_lower_learning_rate(faces, tmp_path, capsys):
    t = _trainer(faces, tmp_path, steps=6, checkpoint_every=2)
    fired = []

    def inject(step, losses):
        if step == 3 and not fired:
            fired.append(step)
            losses["loss_g"] = torch.tensor(math.nan)

    t.nan_hook = inject
    assert t.fit() == 0
    assert fired == [3] and t.rollbacks == 1 and t.lr_scale == 0.5 and t.step == 6
    assert all(torch.isfinite(v).all() for v in _state(t).values() if v.is_floating_point())
    assert "rolled back to step 2" in capsys.readouterr().out
    card = load_checkpoint(tmp_path / CHECKPOINT)[1]
    assert card["resume"]["lr_scale"] == 0.5 and card["steps"] == 6


def test_repeated_divergence_stops_with_a_clear_error(faces, tmp_path):
    from perform.errors import PerformError

    t = _trainer(faces, tmp_path, steps=4, max_rollbacks=2)
    t.nan_hook = lambda step, losses: losses.__setitem__("kl", torch.tensor(math.inf))
    with pytest.raises(PerformError, match="diverged 3 times.*kl"):
        t.fit()


def test_config_rejects_unknown_keys_by_name(tmp_path):
    from perform.errors import PerformError

    p = tmp_path / "c.toml"
    p.write_text("[train]\nsteps = 5\nkl_wieght = 1.0\n")
    with pytest.raises(PerformError, match="kl_wieght"):
        resolve(None, p)
    p.write_text("steps = 'many'\n")
    with pytest.raises(PerformError, match="'steps' should be a int"):
        resolve(None, p)
    cfg = resolve("cpu-small", None, {"steps": 7})
    assert cfg.resolution == 64 and cfg.steps == 7
