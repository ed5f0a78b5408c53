"""Mode collapse: the detector fires on a generator made to collapse and not on a healthy one; both recipes
warn, and with on_collapse = "rollback" restore the last healthy snapshot and lower the learning rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from _vaegan_data import TINY, write_faces
from perform.nets.checkpoint import load_checkpoint
from perform.nets.model import load_model
from perform.nets.pair import warm_batchnorm
from perform.training.collapse import CollapseDetector, generator_diversity
from perform.training.dataset import load_folder
from perform.training.unstable_equilibrium.config import apply_overrides, load_recipe
from perform.training.unstable_equilibrium.trainer import PairTrainer
from perform.training.vaegan.config import TrainConfig
from perform.training.vaegan.trainer import CHECKPOINT, VAEGANTrainer, get_lr

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@torch.no_grad()
def _zero_all_but_bias(module: torch.nn.Module) -> None:
    for name, p in module.named_parameters():
        if not name.endswith("bias"):
            p.zero_()


def test_the_detector_fires_on_a_generator_zeroed_but_its_biases_and_not_on_a_healthy_one():
    gen = load_model(ROOT / "models" / "face-64.json", "cpu").net.generator
    det = CollapseDetector(fraction=0.3, floor=0.01, armed=False)
    for step in range(4):  # healthy: four measures on different fixed batches, no verdict
        z = torch.randn(32, 64, generator=torch.Generator().manual_seed(step))
        d, _ = generator_diversity(gen, z)
        assert d.vendi > 20 and d.distance > 0.2
        assert det.update(step, d.vendi, d.distance) is None
    _zero_all_but_bias(gen)
    d, _ = generator_diversity(gen, torch.randn(32, 64))
    verdict = det.update(4, d.vendi, d.distance)
    assert verdict is not None and "nearly identical" in verdict.reason
    assert d.vendi == pytest.approx(1.0, abs=1e-3)


def test_a_partial_collapse_to_a_few_images_is_a_fall_below_the_peak():
    gen = load_model(ROOT / "models" / "face-64.json", "cpu").net.generator
    z = torch.randn(32, 64, generator=torch.Generator().manual_seed(0))
    det = CollapseDetector(fraction=0.3)
    d, _ = generator_diversity(gen, z)
    assert det.update(0, d.vendi, d.distance) is None
    few, _ = generator_diversity(gen, z[:3].repeat(11, 1)[:32])  # three images, each many times
    verdict = det.update(1, few.vendi, few.distance)
    assert few.vendi < 3.5 and verdict is not None and "below 0.3 of its peak" in verdict.reason
    # a dip that stays above the fraction is not a collapse
    half, _ = generator_diversity(gen, z[:16].repeat(2, 1))
    assert half.vendi > 0.3 * det.peak and det.update(2, half.vendi, half.distance) is None


def test_an_unarmed_detector_waits_until_the_batch_was_diverse():
    det = CollapseDetector(floor=0.01, armed=False)
    assert det.update(0, 1.0, 0.0001) is None          # a fresh generator: every image the same grey
    assert det.update(1, 12.0, 0.2) is None and det.armed
    assert det.update(2, 1.0, 0.0001) is not None      # now it is a collapse
    assert CollapseDetector().update(0, float("nan"), 0.1) is not None


# ---------------------------------------------------------------- the VAE-GAN recipe

@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return load_folder(write_faces(tmp_path_factory.mktemp("faces")))


def _trainer(faces, out, **over) -> VAEGANTrainer:
    t = VAEGANTrainer(TrainConfig(**{**TINY, "diversity_every": 1, "checkpoint_every": 2, "steps": 6, **over}), faces, out,
                      progress=False)
    warm_batchnorm(t.generator, [t.fixed_z])  # a generator whose images already differ: the detector is armed
    return t


def _generator_state(t: VAEGANTrainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in t.generator.state_dict().items()}


def test_a_healthy_vaegan_run_records_diversity_and_sees_no_collapse(faces, tmp_path):
    t = _trainer(faces, tmp_path)
    assert t.fit() == 0 and t.collapses == 0 and t.rollbacks == 0
    log_rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(r["vendi_live"] > 2 and r["collapse_live"] is False for r in log_rows)
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(1.0 <= m["vendi"] <= 64 for m in metrics)


def test_a_vaegan_collapse_rolls_back_to_the_last_healthy_checkpoint_with_a_lower_lr(faces, tmp_path, capsys):
    t = _trainer(faces, tmp_path, on_collapse="rollback")
    zeroed, restored = [], []
    train_step = t.train_step

    def step_then_collapse_at_5():
        out = train_step()
        if t.step == 5 and not zeroed:
            zeroed.append(t.step)
            _zero_all_but_bias(t.generator)
        return out

    load = t.load

    def recording_load(path):
        saved = load_checkpoint(path)[0]
        load(path)
        restored.append(({k[len("generator."):]: v for k, v in saved.items() if k.startswith("generator.")}, _generator_state(t),
                         t.step))

    t.train_step, t.load = step_then_collapse_at_5, recording_load
    assert t.fit() == 0
    assert zeroed == [5] and t.collapses == 1 and t.rollbacks == 1 and t.lr_scale == 0.5 and t.step == 6
    saved, after, step = restored[0]
    assert step == 4  # the checkpoint written at step 4, measured healthy just before
    assert all(torch.equal(saved[k], after[k]) for k in saved)
    assert any(float(v.abs().sum()) > 0 for k, v in after.items() if k.endswith("weight"))
    assert t.phase_g.opt.param_groups[0]["lr"] == pytest.approx(get_lr(5, t.cfg.lr_g, t.cfg) * 0.5)  # the last step's
    out = capsys.readouterr().out
    assert "mode collapse at step 5: the images are nearly identical" in out and "rolled back to step 4" in out
    assert load_checkpoint(tmp_path / CHECKPOINT)[1]["resume"]["collapses"] == 1


def test_a_vaegan_collapse_only_warns_by_default(faces, tmp_path, capsys):
    t = _trainer(faces, tmp_path)
    train_step = t.train_step
    t.train_step = lambda: (train_step(), t.step == 5 and _zero_all_but_bias(t.generator))[0]
    assert t.fit() == 0
    assert t.collapses >= 1 and t.rollbacks == 0 and t.lr_scale == 1.0
    assert "mode collapse at step 5" in capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert rows[-1]["collapse_live"] is True and rows[-1]["vendi_live"] < 1.5


# ---------------------------------------------------------------- the data-free pair recipe

TINY_PAIR = ["net.resolution=32", "net.latent_dim=8", "net.width=8", "net.max_channels=16",
             "net.critic_width=8", "net.critic_max_channels=16", "batch_size=6", "fixed_batch=8"]


def test_a_pair_collapse_rolls_the_generator_back_and_lowers_its_lr(caplog):
    cfg = apply_overrides(load_recipe(ROOT / "recipes" / "tug-of-war.toml"), TINY_PAIR + ["health.on_collapse=rollback"], "t")
    trainer = PairTrainer(cfg)
    trainer.health_check(0)
    snap_a, snap_b = trainer.snapshot_states()
    for it in range(1, 4):
        trainer.step(it)
    trainer.opt_a.state or pytest.fail("Adam has state after a step")
    b_before = {k: v.clone() for k, v in trainer.gen_b.state_dict().items()}
    _zero_all_but_bias(trainer.gen_a)
    trainer.health_check(4)
    assert [(e.kind, e.who) for e in trainer.events] == [("collapse", "a")]
    assert all(torch.equal(v, snap_a[k]) for k, v in trainer.gen_a.state_dict().items())
    assert all(torch.equal(v, b_before[k]) for k, v in trainer.gen_b.state_dict().items())  # B was healthy: untouched
    assert not trainer.opt_a.state and trainer.lr_scale == {"a": 0.5, "b": 1.0} and trainer.rollbacks == 1
    trainer._set_lrs(5)
    assert trainer.opt_a.param_groups[0]["lr"] == pytest.approx(0.5 * trainer.opt_b.param_groups[0]["lr"])
    assert "mode collapse of generator a" in caplog.text
    # the collapsed state never becomes a rollback point
    trainer.collapsed = {"a"}
    trainer.snapshot_states()
    assert all(torch.equal(v, snap_a[k]) for k, v in trainer._last_good["a"].items())


def test_pair_health_records_the_vendi_score():
    cfg = apply_overrides(load_recipe(ROOT / "recipes" / "tug-of-war.toml"), TINY_PAIR, "t")
    measures = PairTrainer(cfg).health_check(0)
    assert all(1.0 < m["vendi"] <= 8.0 for m in measures.values())


def test_on_collapse_reaches_both_recipes_from_the_command_line(tmp_path, capsys):
    from perform.cli import main

    args = ["train", "--recipe", "unstable-equilibrium", "--config", str(ROOT / "recipes" / "tug-of-war.toml"),
            "--out", str(tmp_path), "--steps", "2", "--on-collapse", "rollback"]
    for s in TINY_PAIR + ["snapshot_every=2", "keep_snapshots=2"]:
        args += ["--set", s]
    assert main(args) == 0
    assert json.loads((tmp_path / "recipe.json").read_text())["health"]["on_collapse"] == "rollback"
    with pytest.raises(SystemExit):
        main(["train", "--on-collapse", "explode"])
    assert "invalid choice: 'explode' (choose from 'warn', 'rollback')" in capsys.readouterr().err
    from perform.commands.train import add_arguments
    import argparse

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["--on-collapse", "rollback"]).cfg_on_collapse == "rollback"  # the vaegan TrainConfig key
