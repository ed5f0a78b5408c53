"""The data-free pair recipe end to end, on tiny 32 px nets: snapshots, card, critic, colour, health."""

import json
from pathlib import Path

import numpy as np
import torch

from perform.nets.model import load_model
from perform.training.colour import colourfulness_torch
from perform.training.unstable_equilibrium.config import apply_overrides, load_recipe
from perform.training.unstable_equilibrium.health import HealthMonitor, inject_noise
from perform.training.unstable_equilibrium.run import train, train_pair
from perform.training.unstable_equilibrium.trainer import PairTrainer

ROOT = Path(__file__).resolve().parents[2]
TINY = ["net.resolution=32", "net.latent_dim=8", "net.width=8", "net.max_channels=16",
        "net.critic_width=8", "net.critic_max_channels=16", "batch_size=6", "fixed_batch=6"]


def tiny(recipe: str = "tug-of-war", *extra: str):
    return apply_overrides(load_recipe(ROOT / "recipes" / f"{recipe}.toml"), TINY + list(extra), recipe)


def test_train_pair_writes_snapshots_metrics_and_a_playable_card(tmp_path):
    torch.set_num_threads(1)
    path = train_pair(ROOT / "recipes" / "diametric.toml", tmp_path, sets=TINY + ["snapshot_every=20", "health.every=10"],
                      steps=50, seed=5, device="cpu", keep_alive=True)
    assert path == tmp_path / "pair-diametric.safetensors"
    snaps = sorted((tmp_path / "snapshots").glob("step-*.safetensors"))
    assert [p.stem for p in snaps] == ["step-000000", "step-000020", "step-000040", "step-000050"]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 20, 40, 50]
    for key in ("a.colourfulness", "b.diversity", "a.change_since_snapshot", "critic_accuracy"):
        assert isinstance(records[-1][key], float)
    card = json.loads((tmp_path / "pair-diametric.json").read_text())
    assert card["kind"] == "pair" and card["training"]["steps"] == 50 and card["recipe"]["seed"] == 5
    assert card["training"]["recipe"] == "unstable-equilibrium" and card["recipe"]["name"] == "diametric"
    assert [s["step"] for s in card["snapshots"]] == [0, 20, 40, 50]
    assert "colourfulness" not in card["metrics"] and "a.colourfulness" in card["metrics"]
    assert json.loads((tmp_path / "recipe.json").read_text())["net"]["resolution"] == 32
    assert (tmp_path / "strip.png").stat().st_size > 0 and (tmp_path / "curves.png").stat().st_size > 0
    model = load_model(tmp_path / "pair-diametric", device="cpu")
    assert model.n_snapshots == 4 and model.generate(np.zeros(8, np.float32)).shape == (32, 64, 3)


def test_critic_accuracy_moves_when_the_critic_trains():
    torch.set_num_threads(1)
    trainer = PairTrainer(tiny("tug-of-war", "critic_optim.lr=0.002"))
    before = trainer.critic_accuracy()
    for it in range(40):
        z = trainer.sample_z(6)
        with torch.no_grad():
            xa, xb = trainer.gen_a(z), trainer.gen_b(z)
        trainer.critic_step(xa, xb, it)
    after = trainer.critic_accuracy()
    assert after >= 0.9 and after - before >= 0.2


def _colourfulness_after(colour: float, steps: int = 30) -> float:
    cfg = tiny("tug-of-war", f"losses.colour={colour}", "generator_optim.lr=0.002")
    trainer = PairTrainer(cfg)
    for it in range(1, steps + 1):
        trainer.step(it)
    trainer.gen_a.eval()
    with torch.no_grad():
        return float(colourfulness_torch(trainer.gen_a(trainer.z_fixed)).mean())


def test_colour_objective_raises_colourfulness_over_the_same_run_without_it():
    torch.set_num_threads(1)
    with_colour, without = _colourfulness_after(3.0), _colourfulness_after(0.0)
    assert with_colour > without * 1.1, (with_colour, without)


def test_collapse_is_detected_on_a_zeroed_generator_and_keep_alive_perturbs_it():
    trainer = PairTrainer(tiny("tug-of-war", "health.collapse_diversity=0.01"), keep_alive=True)
    with torch.no_grad():
        for p in trainer.gen_a.parameters():
            p.zero_()
    measures = trainer.health_check(1)
    kinds = {(e.kind, e.who) for e in trainer.events}
    assert ("collapse", "a") in kinds and ("collapse", "b") not in kinds
    assert measures["a"]["diversity"] < 1e-6 < measures["b"]["diversity"]
    assert any(float(p.detach().abs().sum()) > 0 for p in trainer.gen_a.parameters())  # noise was injected


def test_stasis_and_explosion_are_detected():
    cfg = tiny()
    trainer = PairTrainer(cfg)
    monitor = HealthMonitor(cfg.health, trainer.z_fixed)
    monitor.check(0, trainer.generators())
    _, events = monitor.check(50, trainer.generators())  # nothing trained in between
    assert {(e.kind, e.who) for e in events} == {("stasis", "a"), ("stasis", "b")}
    assert monitor.explosion(3, "critic", float("nan")).kind == "explosion"
    assert monitor.explosion(3, "a", 1.0) is None


def test_keep_alive_noise_changes_weights_but_keeps_them_finite():
    trainer = PairTrainer(tiny())
    before = [p.detach().clone() for p in trainer.gen_b.parameters()]
    inject_noise(trainer.gen_b, 0.05)
    after = list(trainer.gen_b.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(after, before))


def test_training_is_repeatable_with_the_same_seed(tmp_path):
    torch.set_num_threads(1)
    cfg = tiny("slow-turns", "steps=6", "snapshot_every=3", "schedule.turn_length=2")
    p1 = train(cfg, tmp_path / "one")
    p2 = train(cfg, tmp_path / "two")
    m1, m2 = load_model(p1, device="cpu"), load_model(p2, device="cpu")
    z = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    assert np.array_equal(m1.generate(z), m2.generate(z))


def test_perform_train_command_runs_the_recipe(tmp_path):
    from perform.cli import main

    torch.set_num_threads(1)
    rc = main(["train", "--recipe", "unstable-equilibrium", "--config", str(ROOT / "recipes" / "tug-of-war.toml"),
               "--steps", "2", "--out", str(tmp_path), "--device", "cpu"])
    assert rc == 0
    card = json.loads((tmp_path / "pair-tug-of-war.json").read_text())
    assert card["training"]["steps"] == 2 and [s["step"] for s in card["snapshots"]] == [0, 2]
    # the same --out again is refused: the new run's snapshots would sit among the old one's
    before = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert main(["train", "--recipe", "unstable-equilibrium", "--config", str(ROOT / "recipes" / "tug-of-war.toml"),
                 "--steps", "1", "--out", str(tmp_path), "--device", "cpu"]) == 2
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == before
    assert json.loads((tmp_path / "pair-tug-of-war.json").read_text())["training"]["steps"] == 2


def test_keep_alive_kicks_the_learning_rate_on_stasis_and_resets_the_critic_when_it_persists():
    cfg = tiny("tug-of-war", "health.lr_kick=4.0", "health.kick_steps=10")
    trainer = PairTrainer(cfg, keep_alive=True)
    trainer.health_check(0)
    trainer.health_check(1)  # nothing trained: stasis -> kick
    assert trainer.kick.factor == 4.0 and trainer.kick.until == 11
    trainer._set_lrs(5)
    assert trainer.opt_a.param_groups[0]["lr"] == cfg.generator_optim.lr * 4.0
    trainer._set_lrs(11)
    assert trainer.opt_a.param_groups[0]["lr"] == cfg.generator_optim.lr
    critic_before = [p.detach().clone() for p in trainer.critic.parameters()]
    trainer.health_check(2)  # second stasis in a row: a fresh critic
    assert any(not torch.equal(a, b) for a, b in zip(trainer.critic.parameters(), critic_before))


def test_a_non_finite_gradient_is_an_explosion_and_the_update_is_skipped():
    trainer = PairTrainer(tiny())
    before = [p.detach().clone() for p in trainer.gen_a.parameters()]
    for p in trainer.gen_a.parameters():
        p.grad = torch.full_like(p, float("nan"))
    norm = trainer._apply(trainer.opt_a, trainer.gen_a, "a", 7)
    assert norm != norm  # nan reported
    assert [(e.kind, e.who, e.step) for e in trainer.events] == [("explosion", "a", 7)]
    assert all(torch.equal(a, b) for a, b in zip(trainer.gen_a.parameters(), before))
