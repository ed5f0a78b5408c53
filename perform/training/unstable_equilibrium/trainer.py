"""One step of the unstable-equilibrium recipe: two generators, a critic that tells them apart, their
optimisers and the health monitor (after Broad & Grierson).

Each generator learns to have its images passed off as the other's (a critic learns to tell them apart)
and to show more colour variety than the other; relational terms keep each batch varied and its latent
geometry meaningful. perform.training.unstable_equilibrium.run drives the steps and keeps the snapshots.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from perform.nets.pair import warm_batchnorm
from perform.nets.vaegan import Critic, Generator
from perform.training.unstable_equilibrium.config import OptimConfig, RecipeConfig
from perform.training.unstable_equilibrium.health import HealthEvent, HealthMonitor, inject_noise, reset_parameters
from perform.training.unstable_equilibrium.losses import (colour_measure, diversity_loss, relational_loss,
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
        self._last_good: dict[str, StateDict] = {}   # per generator: its state at the last snapshot it was healthy at
        self.collapsed: set[str] = set()            # generators the latest health check found collapsed
        self.lr_scale = {"a": 1.0, "b": 1.0}         # lowered by each --on-collapse rollback
        self.rollbacks = 0

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
        self.collapsed = {e.who for e in events if e.kind == "collapse"}
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
        if e.kind == "collapse":
            rollback = self.cfg.health.on_collapse == "rollback"
            log.warning("step %d: mode collapse of generator %s: %s%s", e.step, e.who, e.detail or f"{e.value:.4g}",
                        " -> rolling back" if rollback else " -> perturbing" if self.keep_alive else "")
            if rollback:  # instead of keep-alive's noise
                self._rollback(e.who)
                return
        else:
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

    def _rollback(self, who: str) -> None:
        """The collapsed generator back to its last healthy snapshot, its optimiser state cleared (its moments
        led into the collapse) and its learning rate lowered."""
        if who not in self._last_good:
            log.warning("generator %s collapsed before any healthy snapshot: nothing to roll back to", who)
            return
        self.generators()[who].load_state_dict(self._last_good[who])
        {"a": self.opt_a, "b": self.opt_b}[who].state.clear()
        self.lr_scale[who] *= self.cfg.health.rollback_lr_factor
        self.rollbacks += 1
        log.warning("generator %s rolled back to its last healthy snapshot; its learning rate now x%g", who, self.lr_scale[who])

    def _restore_if_broken(self, it: int) -> None:
        for name, gen in self.generators().items():
            if not all(torch.isfinite(p).all() for p in gen.parameters()) and name in self._last_good:
                log.warning("step %d: generator %s has non-finite weights; restored from the last snapshot", it, name)
                gen.load_state_dict(self._last_good[name])

    def _set_lrs(self, it: int) -> None:
        factor = self.kick.factor if it < self.kick.until else 1.0
        for opt, ocfg, scale in ((self.opt_a, self.cfg.generator_optim, self.lr_scale["a"]),
                                 (self.opt_b, self.cfg.generator_optim, self.lr_scale["b"]),
                                 (self.opt_c, self.cfg.critic_optim, 1.0)):
            for g in opt.param_groups:
                g["lr"] = ocfg.lr * factor * scale

    def snapshot_states(self) -> tuple[StateDict, StateDict]:
        """Both generators' states; each becomes its generator's rollback point unless the latest health
        check found it collapsed (the last *healthy* snapshot is the one to go back to)."""
        states = (_state(self.gen_a), _state(self.gen_b))
        for name, state in zip(("a", "b"), states):
            if name not in self.collapsed:
                self._last_good[name] = state
        return states
