"""Training without data: two generators in an (un)stable equilibrium (after Broad & Grierson).

Each generator learns to have its images passed off as the other's (a critic learns to tell them apart)
and to show more colour variety than the other; relational terms keep each batch varied and its latent
geometry meaningful. Nothing reaches an equilibrium: the trajectory is the work, so training keeps
snapshots and the final pair checkpoint holds them for playback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from perform.errors import PerformError
from perform.nets.device import pick_device
from perform.nets.pair import save_pair, sefa_directions, warm_batchnorm
from perform.nets.vaegan import Critic, Generator
from perform.training.unstable_config import OptimConfig, RecipeConfig, load_recipe, recipe_from_dict
from perform.training.unstable_health import HealthEvent, HealthMonitor, inject_noise, measure, reset_parameters
from perform.training.unstable_losses import (colour_measure, diversity_loss, relational_loss,
                                              relative_colour_loss, target_loss, total_variation)

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]


def make_optimiser(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=cfg.beta2, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.beta1, weight_decay=cfg.weight_decay)


def _state(gen: Generator) -> StateDict:
    return {k: v.detach().to("cpu", copy=True) for k, v in gen.state_dict().items()}


@dataclass
class _Kick:
    """A temporary learning-rate multiplier (stasis kick or explosion cooling) and when it ends."""

    factor: float = 1.0
    until: int = -1


@dataclass
class StepStats:
    """Running sums of the logged scalars between snapshots."""

    sums: dict[str, float] = field(default_factory=dict)
    n: int = 0

    def add(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.n += 1

    def reset(self) -> None:
        self.sums, self.n = {}, 0

    def means(self) -> dict[str, float]:
        return {k: v / max(self.n, 1) for k, v in self.sums.items()}


class PairTrainer:
    """Owns the two generators, the critic, their optimisers and the health monitor; one step at a time."""

    def __init__(self, cfg: RecipeConfig, device: torch.device | str = "cpu", keep_alive: bool = False) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.keep_alive = keep_alive
        torch.manual_seed(cfg.seed)
        self.rng = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        gcfg, ccfg = cfg.net.generator_config(), cfg.net.critic_config()
        self.gen_a = Generator(gcfg).to(self.device)
        self.gen_b = Generator(gcfg).to(self.device)
        self.critic = Critic(ccfg).to(self.device)  # its score is the logit of "made by A"
        self.opt_a = make_optimiser(self.gen_a.parameters(), cfg.generator_optim)
        self.opt_b = make_optimiser(self.gen_b.parameters(), cfg.generator_optim)
        self.opt_c = make_optimiser(self.critic.parameters(), cfg.critic_optim)
        for gen in (self.gen_a, self.gen_b):
            warm_batchnorm(gen, [self.sample_z(cfg.batch_size) for _ in range(8)])
        self.z_fixed = self.sample_z(cfg.fixed_batch)
        self.monitor = HealthMonitor(cfg.health, self.z_fixed)
        self.kick = _Kick()
        self.events: list[HealthEvent] = []
        self._stasis_run = 0
        self._last_good: tuple[StateDict, StateDict] | None = None

    # ---- sampling ----

    def sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.net.latent_dim, generator=self.rng).to(self.device)  # (n, Z)

    def generators(self) -> dict[str, Generator]:
        return {"a": self.gen_a, "b": self.gen_b}

    # ---- the critic ----

    def critic_loss(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        """Tell A (target 1) from B (target 0). 'diametric' adds the opposed, swapped-label loss measured
        with another function: the two pull against each other most near the boundary, so the critic
        is confident only where the generators really differ and its verdict keeps moving."""
        lc = self.cfg.losses
        sa, sb = self.critic(xa), self.critic(xb)  # (B,) each
        loss = target_loss(sa, 1.0, "bce") + target_loss(sb, 0.0, "bce")
        if lc.critic_mode == "diametric":
            loss = loss + lc.diametric_weight * (target_loss(sa, 0.0, lc.diametric_loss) + target_loss(sb, 1.0, lc.diametric_loss))
        return loss

    def critic_step(self, xa: torch.Tensor, xb: torch.Tensor, step: int) -> float:
        self.critic.requires_grad_(True)
        self.opt_c.zero_grad(set_to_none=True)
        loss = self.critic_loss(xa.detach(), xb.detach())
        loss.backward()
        self._apply(self.opt_c, self.critic, "critic", step)
        return float(loss.detach())

    @torch.no_grad()
    def critic_accuracy(self, z: torch.Tensor | None = None) -> float:
        """Share of the fixed batch's images (A's and B's) the critic attributes to the right generator."""
        z = self.z_fixed if z is None else z
        modes = self.gen_a.training, self.gen_b.training
        self.gen_a.eval(), self.gen_b.eval()
        sa, sb = self.critic(self.gen_a(z)), self.critic(self.gen_b(z))
        self.gen_a.train(modes[0]), self.gen_b.train(modes[1])
        return float(((sa > 0).float().mean() + (sb < 0).float().mean()) / 2)

    # ---- the generators ----

    def generator_loss(self, who: str, x_own: torch.Tensor, x_other: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of generator `who` ('a' or 'b') given both batches for the same latents z (B, Z)."""
        lc = self.cfg.losses
        other_target = 0.0 if who == "a" else 1.0  # be taken for the other one
        score, feats = self.critic.forward_with_features(x_own)
        parts: dict[str, torch.Tensor] = {}
        if lc.deception:
            parts["deception"] = lc.deception * target_loss(score, other_target, lc.deception_loss)
        if lc.colour:
            kind = lc.colour_measure if who == "a" or not lc.colour_measure_b else lc.colour_measure_b
            parts["colour"] = lc.colour * relative_colour_loss(colour_measure(x_own, kind), colour_measure(x_other.detach(), kind))
        if lc.embedding:
            parts["embedding"] = lc.embedding * relational_loss(feats, z, lc.embedding_distance)
        if lc.pixel_diversity:
            parts["pixel"] = lc.pixel_diversity * diversity_loss(x_own, lc.pixel_distance)
        if lc.smoothness:
            parts["smoothness"] = lc.smoothness * total_variation(x_own)
        total = sum(parts.values()) if parts else x_own.sum() * 0.0
        return total, {f"{who}.{k}": float(v.detach()) for k, v in parts.items()}

    def generator_step(self, who: list[str], z: torch.Tensor, step: int) -> dict[str, float]:
        """Update the generators in `who` together on latents z; the others' images are fixed references."""
        self.critic.requires_grad_(False)
        gens = self.generators()
        opts = {"a": self.opt_a, "b": self.opt_b}
        for name in who:
            opts[name].zero_grad(set_to_none=True)
        xs = {}
        for name, gen in gens.items():
            if name in who:
                xs[name] = gen(z)
            else:
                with torch.no_grad():
                    xs[name] = gen(z)
        total = 0.0
        logged: dict[str, float] = {}
        for name in who:
            loss, parts = self.generator_loss(name, xs[name], xs["b" if name == "a" else "a"], z)
            total = total + loss
            logged.update(parts)
        total.backward()
        for name in who:
            logged[f"{name}.grad_norm"] = self._apply(opts[name], gens[name], name, step)
        self.critic.requires_grad_(True)
        return logged

    def _apply(self, opt: torch.optim.Optimizer, module: torch.nn.Module, who: str, step: int) -> float:
        """Clip, watch for explosions, step (or skip a non-finite update so the weights stay finite)."""
        max_norm = self.cfg.schedule.max_grad_norm
        params = [p for p in module.parameters() if p.grad is not None]
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf")))
        event = self.monitor.explosion(step, who, norm)
        if event:
            self._on_event(event)
        if math.isfinite(norm):
            opt.step()
        return norm if math.isfinite(norm) else float("nan")

    # ---- one step ----

    def step(self, it: int) -> dict[str, float]:
        """One training step: critic update(s), then the generators in the configured sequence."""
        self._set_lrs(it)
        sch = self.cfg.schedule
        z = self.sample_z(self.cfg.batch_size)
        logged: dict[str, float] = {}
        for _ in range(sch.critic_steps):
            with torch.no_grad():
                xa, xb = self.gen_a(z), self.gen_b(z)
            logged["critic.loss"] = self.critic_step(xa, xb, it)
        if sch.sequence == "simultaneous":
            logged.update(self.generator_step(["a", "b"], z, it))
        elif sch.sequence == "alternating":
            logged.update(self.generator_step(["a"], z, it))
            logged.update(self.generator_step(["b"], z, it))  # B answers A's freshest images
        else:  # turns
            who = "a" if (it // sch.turn_length) % 2 == 0 else "b"
            logged.update(self.generator_step([who], z, it))
        return logged

    # ---- health and keep-alive ----

    def health_check(self, it: int) -> dict[str, Any]:
        measures, events = self.monitor.check(it, self.generators())
        if events:
            self._stasis_run = self._stasis_run + 1 if any(e.kind == "stasis" for e in events) else 0
        else:
            self._stasis_run = 0
        for e in events:
            self._on_event(e)
        if self.keep_alive:
            self._restore_if_broken(it)
        return {k: v.to_dict() for k, v in measures.items()}

    def _on_event(self, e: HealthEvent) -> None:
        self.events.append(e)
        log.info("step %d: %s of %s (%.4g)%s", e.step, e.kind, e.who, e.value, " -> perturbing" if self.keep_alive else "")
        if not self.keep_alive:
            return
        hc = self.cfg.health
        if e.kind == "collapse":
            inject_noise(self.generators()[e.who], hc.weight_noise, self.rng if self.device.type == "cpu" else None)
        elif e.kind == "stasis":
            self.kick = _Kick(hc.lr_kick, e.step + hc.kick_steps)
            if self._stasis_run >= 2:  # a kick was not enough: give the generators a fresh judge
                reset_parameters(self.critic)
                self.opt_c.state.clear()
                self._stasis_run = 0
        elif e.kind == "explosion":
            self.kick = _Kick(hc.cool_factor, e.step + hc.kick_steps)
            if e.who == "critic":
                reset_parameters(self.critic)
                self.opt_c.state.clear()

    def _restore_if_broken(self, it: int) -> None:
        for name, gen in self.generators().items():
            if not all(torch.isfinite(p).all() for p in gen.parameters()) and self._last_good is not None:
                log.warning("step %d: generator %s has non-finite weights; restored from the last snapshot", it, name)
                gen.load_state_dict(self._last_good[0 if name == "a" else 1])

    def _set_lrs(self, it: int) -> None:
        factor = self.kick.factor if it < self.kick.until else 1.0
        for opt, ocfg in ((self.opt_a, self.cfg.generator_optim), (self.opt_b, self.cfg.generator_optim), (self.opt_c, self.cfg.critic_optim)):
            for g in opt.param_groups:
                g["lr"] = ocfg.lr * factor

    def snapshot_states(self) -> tuple[StateDict, StateDict]:
        states = (_state(self.gen_a), _state(self.gen_b))
        self._last_good = states
        return states


# ---- the run: steps, snapshots, metrics, the final pair checkpoint ----

def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), no GPU, torch threads {torch.get_num_threads()}"


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else math.nan


def _spread(n: int, keep: int) -> list[int]:
    """`keep` indices out of n, evenly spread, always including the first and the last."""
    if n <= keep:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, keep)})


def train(cfg: RecipeConfig, out_dir: str | Path, device: torch.device | str = "cpu", keep_alive: bool = False,
          on_snapshot: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Run a recipe; writes snapshots/, metrics.jsonl, recipe.json, strip.png, curves.png and
    pair-<name>.safetensors/.json into out_dir. Returns the pair checkpoint's path."""
    out = Path(out_dir)
    (out / "snapshots").mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    trainer = PairTrainer(cfg, device, keep_alive)
    gcfg = cfg.net.generator_config()
    snapshots: list[tuple[StateDict, StateDict]] = []
    snap_meta: list[dict[str, Any]] = []
    stats = StepStats()
    metrics_path = out / "metrics.jsonl"
    metrics_path.write_text("")
    t0 = time.perf_counter()
    n_events = 0
    last_health: dict[str, Any] = {}
    snap_images: dict[str, torch.Tensor] = {}

    def take_snapshot(it: int) -> None:
        nonlocal n_events
        health = trainer.health_check(it) if it % cfg.health.every else last_health
        change = {}
        for who, gen in trainer.generators().items():  # the trajectory's speed: change since the last snapshot
            h, snap_images[who] = measure(gen, trainer.z_fixed, snap_images.get(who))
            change[f"{who}.change_since_snapshot"] = h.change
        record = {"step": it, "time_s": round(time.perf_counter() - t0, 2), "critic_accuracy": trainer.critic_accuracy(),
                  **{f"{who}.{k}": v for who, h in health.items() for k, v in h.items()}, **change,
                  **{k: round(v, 5) for k, v in stats.means().items()},
                  "events": [e.to_dict() for e in trainer.events[n_events:]]}
        record = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}  # strict JSON
        n_events = len(trainer.events)
        stats.reset()
        states = trainer.snapshot_states()
        snapshots.append(tuple({k: v.half() if v.is_floating_point() else v for k, v in s.items()} for s in states))
        meta = {"step": it, "metrics": {k: v for k, v in record.items() if k not in ("events",)}}
        snap_meta.append(meta)
        save_pair(out / "snapshots" / f"step-{it:06d}", [snapshots[-1]],
                  {"name": f"{cfg.name}-step{it}", "config": gcfg.to_dict(), "snapshots": [meta], "recipe": cfg.to_dict()})
        with metrics_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        log.info("snapshot %d: critic acc %.2f, colourfulness a %.1f b %.1f, diversity a %.3f b %.3f",
                 it, record["critic_accuracy"], _num(record.get("a.colourfulness")), _num(record.get("b.colourfulness")),
                 _num(record.get("a.diversity")), _num(record.get("b.diversity")))
        if on_snapshot:
            on_snapshot(record)

    last_health = trainer.health_check(0)
    take_snapshot(0)
    done = 0
    for it in range(1, cfg.steps + 1):
        stats.add(trainer.step(it))
        done = it
        if it % cfg.health.every == 0:
            last_health = trainer.health_check(it)
        out_of_time = cfg.max_minutes > 0 and time.perf_counter() - t0 > 60.0 * cfg.max_minutes
        if it % cfg.log_every == 0:
            m = stats.means()
            shown = ", ".join(f"{k} {m[k]:.3g}" for k in ("critic.loss", "a.grad_norm", "b.grad_norm") if k in m)  # 'turns': one side idle
            log.info("step %d/%d (%.1f s/step): %s", it, cfg.steps, (time.perf_counter() - t0) / it, shown)
        if it % cfg.snapshot_every == 0 or it == cfg.steps or out_of_time:
            take_snapshot(it)
        if out_of_time:
            log.warning("max_minutes (%g) reached at step %d of %d: stopping with a final snapshot", cfg.max_minutes, it, cfg.steps)
            break
    elapsed = time.perf_counter() - t0

    keep = _spread(len(snapshots), cfg.keep_snapshots)
    final = trainer.generators()
    directions = sefa_directions([final["a"], final["b"]])
    counts: dict[str, int] = {}
    for e in trainer.events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    card = {
        "name": f"pair-{cfg.name}",
        "config": gcfg.to_dict(),
        "recipe": cfg.to_dict(),
        "training": {"recipe": "unstable-equilibrium", "steps": done, "planned_steps": cfg.steps, "time_s": round(elapsed, 1), "hardware": _hardware(trainer.device),
                     "device": str(trainer.device), "torch": torch.__version__, "keep_alive": keep_alive,
                     "seed": cfg.seed, "data": "none (data-free recipe)"},
        "snapshots": [snap_meta[i] for i in keep],
        "metrics": snap_meta[-1]["metrics"],
        "health_events": counts,
        "directions": directions,
    }
    path = save_pair(out / f"pair-{cfg.name}", [snapshots[i] for i in keep], card)
    try:
        from perform.training.unstable_report import write_report
        write_report(path, metrics_path, out)
    except Exception as e:  # a failed picture must not lose a finished training run
        log.warning("could not draw the strip/curves: %s", e)
    log.info("done: %d steps in %.0f s -> %s", done, elapsed, path)
    return path


# ---- command line (perform train --recipe unstable-equilibrium ...) ----

def add_unstable_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of the unstable-equilibrium recipe (train.py may add them itself)."""
    p.add_argument("--config", help="recipe TOML file (see recipes/)")
    p.add_argument("--steps", type=int, default=None, help="override the recipe's number of steps")
    p.add_argument("--out", default=None, help="output folder (default runs/<recipe name>)")
    p.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    p.add_argument("--keep-alive", action="store_true", help="perturb on collapse/explosion/stasis to keep the dynamics going")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any recipe key, e.g. --set net.resolution=32 --set losses.colour=0 (TOML values)")


def _parse_value(text: str) -> Any:
    """A --set value as TOML (numbers, booleans, quoted strings); bare words are taken as strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(cfg: RecipeConfig, sets: list[str], where: str) -> RecipeConfig:
    """Apply KEY=VALUE overrides (dotted keys for sections) and validate the result again."""
    data = cfg.to_dict()
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise PerformError(f"--set {item!r}: expected KEY=VALUE, e.g. losses.colour=0.5")
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise PerformError(f"--set {item!r}: {part!r} is not a section of the recipe")
            node = node[part]
        node[leaf] = _parse_value(value.strip())
    return recipe_from_dict(data, f"{where} (with --set)")


def run_from_args(args: argparse.Namespace) -> int:
    """`perform train --recipe unstable-equilibrium --config FILE [--steps N --out DIR --seed S --keep-alive]`."""
    if not getattr(args, "config", None):
        raise PerformError("--config FILE is required for the unstable-equilibrium recipe (see recipes/)")
    cfg = load_recipe(args.config)
    sets = list(getattr(args, "set", None) or [])
    for key in ("steps", "seed"):  # `perform train` may parse these as its own config fields (cfg_<name>)
        value = getattr(args, key, None)
        value = getattr(args, f"cfg_{key}", None) if value is None else value
        if value is not None:
            sets.append(f"{key}={int(value)}")
    if sets:
        cfg = apply_overrides(cfg, sets, str(args.config))
    threads = getattr(args, "threads", None)
    if threads:
        torch.set_num_threads(int(threads))
    try:
        device = pick_device(getattr(args, "device", None))
    except ValueError as e:
        raise PerformError(str(e)) from None
    out = Path(args.out) if getattr(args, "out", None) else Path("runs") / cfg.name
    path = train(cfg, out, device, keep_alive=bool(getattr(args, "keep_alive", False)))
    print(f"pair model written to {path}")
    return 0
