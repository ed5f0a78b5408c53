"""VAE-GAN training (Larsen et al. 2016) with a WGAN-GP critic (Gulrajani et al. 2017).

Encoder -> (mean, log-variance); generator decodes both encoded and prior latents; the critic scores real
against both, and its feature map measures reconstruction (learned similarity) beside a pixel L1 and a KL
term. Shape after nanoGPT (pure get_lr, a no-grad evaluate helper, a checkpoint dict) and stylegan3 (phases
that toggle requires_grad, manual gradient all-reduce, rank 0 writes).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import platform
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from perform.errors import PerformError
from perform.nets.checkpoint import CheckpointError, load_checkpoint, load_into, paths_for, read_card, save_checkpoint
from perform.nets.vaegan import Critic, Encoder, Generator, tensor_to_images
from perform.training import distributed as D
from perform.training.collapse import CollapseDetector, CollapseVerdict, generator_diversity
from perform.training.dataset import FaceDataset, ShardedSampler, augment
from perform.training.grids import make_grid, pairs_grid, save_png
from perform.training.metrics import colourfulness_mean, diversity, psnr, ssim, vendi
from perform.training.state import flatten_optimizer, generator_state, set_generator_state, unflatten_optimizer
from perform.training.vaegan.config import TrainConfig, from_dict

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"   # training checkpoint stem inside the run folder (everything, for --resume)
MODEL = "model"             # inference export stem (encoder + EMA generator), loadable by load_model
SNAPSHOTS = "snapshots"     # an fp16 inference export per checkpoint, model-<step>, for `perform select`
EXPLODE = 1e5               # a loss beyond this is treated like a NaN


def get_lr(it: int, base_lr: float, cfg: TrainConfig) -> float:
    """Linear warm-up, then constant or cosine decay to lr_min_frac * base_lr at cfg.steps."""
    if it < cfg.warmup_steps:
        return base_lr * (it + 1) / (cfg.warmup_steps + 1)
    if cfg.lr_decay == "constant":
        return base_lr
    t = min(1.0, (it - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps))
    return base_lr * (cfg.lr_min_frac + (1 - cfg.lr_min_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def ema_decay_at(it: int, decay: float) -> float:
    """Short memory early on, so the average does not drag in the random initial weights."""
    return min(decay, (1.0 + it) / (10.0 + it))


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Gulrajani et al.: E[(||grad_x D(x)|| - 1)^2] at x = real + alpha * (fake - real), alpha (B, 1, 1, 1)."""
    x = (real + alpha * (fake - real)).detach().requires_grad_(True)  # (B, 3, R, R) interpolates
    score = critic(x.float())
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per latent dimension, averaged over the batch."""
    return (-0.5 * (1 + logvar - mean.pow(2) - logvar.exp())).mean()


@dataclass
class Phase:
    """One optimisation phase (stylegan3's loop): the modules it trains and their optimizer."""

    name: str
    modules: list[nn.Module]
    opt: torch.optim.Optimizer
    base_lr: float

    def params(self) -> list[nn.Parameter]:
        return [p for m in self.modules for p in m.parameters()]


class Divergence(RuntimeError):
    """A NaN or exploding loss."""


class VAEGANTrainer:
    """Owns the networks, optimizers, data order and RNG of one run; `fit()` trains to cfg.steps."""

    def __init__(self, cfg: TrainConfig, data: FaceDataset, out_dir: str | Path, device: torch.device | str = "cpu",
                 dist: D.DistInfo | None = None, progress: bool = True) -> None:
        self.cfg = cfg
        self.out = Path(out_dir)
        self.device = torch.device(device)
        self.dist = dist or D.DistInfo()
        self.progress = progress
        mcfg = cfg.model_config()
        self.model_cfg = mcfg
        torch.manual_seed(cfg.seed)  # same initial weights on every rank (and broadcast below to be sure)
        self.encoder = Encoder(mcfg).to(self.device)
        self.generator = Generator(mcfg).to(self.device)
        self.critic = Critic(mcfg).to(self.device)
        self.generator_ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        for m in (self.encoder, self.generator, self.critic, self.generator_ema):
            D.broadcast_module(m, self.dist)
        betas = (cfg.beta1, cfg.beta2)
        self.phase_g = Phase("G", [self.encoder, self.generator],
                             torch.optim.Adam(list(self.encoder.parameters()) + list(self.generator.parameters()), lr=cfg.lr_g, betas=betas), cfg.lr_g)
        self.phase_d = Phase("D", [self.critic], torch.optim.Adam(self.critic.parameters(), lr=cfg.lr_d, betas=betas), cfg.lr_d)
        self.dataset = data
        self.train_data, self.held_out = data.split(cfg.holdout, cfg.seed)
        self._images = self._to_tensor(self.train_data)             # (N, 3, R, R) uint8 on the device
        self._held = self._to_tensor(self.held_out)
        if cfg.batch_size % self.dist.world:
            raise PerformError(f"batch_size {cfg.batch_size} must divide evenly over {self.dist.world} processes")
        self.batch = cfg.batch_size // self.dist.world
        self.sampler = ShardedSampler(len(self.train_data), self.batch, cfg.seed, self.dist.rank, self.dist.world)
        self.noise = torch.Generator(self.device).manual_seed(cfg.seed * 7919 + 1 + self.dist.rank)
        fixed = torch.Generator().manual_seed(cfg.seed + 12345)
        self.fixed_z = torch.randn(64, mcfg.latent_dim, generator=fixed).to(self.device)  # (64, Z) for sample grids
        self.step = 0
        self.d_iter = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.train_time_s = 0.0
        self.metrics: dict[str, float] = {}
        # a fresh generator maps every latent to about the same image: judge only once it has been diverse
        self.collapse = CollapseDetector(cfg.collapse_fraction, cfg.collapse_floor, armed=False)
        self.live_diversity: dict[str, float] = {}  # the last measure, for the log and the progress line
        self.collapses = 0
        self.nan_hook: Callable[[int, dict[str, torch.Tensor]], None] | None = None  # tests inject failures here
        self._autocast, self._scaler = self._precision()

    # ----------------------------------------------------------------- set-up helpers
    def _to_tensor(self, ds: FaceDataset) -> torch.Tensor:
        if len(ds) == 0:
            return torch.empty(0, 3, self.cfg.resolution, self.cfg.resolution, dtype=torch.uint8, device=self.device)
        if ds.resolution != self.cfg.resolution:
            raise PerformError(f"dataset crops are {ds.resolution} px, the config asks for {self.cfg.resolution} px")
        return torch.as_tensor(ds.images).permute(0, 3, 1, 2).contiguous().to(self.device)

    def _precision(self) -> tuple[Callable[[], Any], torch.amp.GradScaler | None]:
        mode = self.cfg.amp
        if self.device.type != "cuda" or mode == "off":
            return contextlib.nullcontext, None
        if mode == "auto":
            mode = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        dtype = torch.bfloat16 if mode == "bf16" else torch.float16
        scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
        return (lambda: torch.autocast("cuda", dtype=dtype)), scaler

    def _batch(self, augmented: bool = True) -> torch.Tensor:
        idx = self.sampler.next().to(self.device)
        x = self._images[idx].float().div_(127.5).sub_(1.0)  # (B, 3, R, R) in [-1, 1]
        return augment(x, self.noise) if augmented and self.cfg.augment else x

    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.noise, device=self.device)

    def _backward_step(self, phase: Phase, loss: torch.Tensor) -> None:
        phase.opt.zero_grad(set_to_none=True)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.unscale_(phase.opt)
        else:
            loss.backward()
        D.average_gradients(phase.params(), self.dist)
        if self._scaler is not None:
            self._scaler.step(phase.opt)
            self._scaler.update()
        else:
            phase.opt.step()

    @staticmethod
    def _train_only(active: list[nn.Module], frozen: list[nn.Module]) -> None:
        for m in frozen:
            m.requires_grad_(False)
        for m in active:
            m.requires_grad_(True)

    # ----------------------------------------------------------------- one step
    def train_step(self) -> dict[str, float]:
        """n_critic critic updates, then one encoder+generator update; returns the losses as floats."""
        cfg = self.cfg
        for phase in (self.phase_g, self.phase_d):
            lr = get_lr(self.step, phase.base_lr, cfg) * self.lr_scale
            for group in phase.opt.param_groups:
                group["lr"] = lr
        z_dim = self.model_cfg.latent_dim
        losses: dict[str, torch.Tensor] = {}

        # critic phase: real vs a mix of reconstructions and prior samples (both are fakes in Larsen et al.)
        self._train_only([self.critic], [self.encoder, self.generator])
        for _ in range(cfg.n_critic):
            x = self._batch()
            b = x.shape[0]
            with torch.no_grad(), self._autocast():
                mean, logvar = self.encoder(x[: b // 2])
                z = torch.cat([mean + self._randn(*mean.shape) * (0.5 * logvar).exp(), self._randn(b - b // 2, z_dim)])
                fake = self.generator(z).float()                                    # (B, 3, R, R)
            with self._autocast():
                d_real, d_fake = self.critic(torch.cat([x, fake])).float().split([b, b])
            wdist = d_real.mean() - d_fake.mean()
            loss_d = -wdist + 1e-3 * d_real.pow(2).mean()  # drift term (Karras et al. 2018) keeps scores near 0
            if self.d_iter % cfg.gp_every == 0:
                alpha = torch.rand(b, 1, 1, 1, generator=self.noise, device=self.device)
                gp = gradient_penalty(self.critic, x, fake, alpha)  # fp32: the double backward is fragile in fp16
                loss_d = loss_d + cfg.gp_lambda * cfg.gp_every * gp
                losses["gp"] = gp.detach()
            self.d_iter += 1
            self._backward_step(self.phase_d, loss_d)
            losses["wdist"] = wdist.detach()
            losses["loss_d"] = loss_d.detach()

        # encoder + generator phase
        self._train_only([self.encoder, self.generator], [self.critic])
        x = self._batch()
        b = x.shape[0]
        with self._autocast():
            with torch.no_grad():  # the target of the learned similarity: no gradient wanted through it
                f_real = self.critic.forward_with_features(x)[1].float()
            mean, logvar = self.encoder(x)                                          # (B, Z) each
            z = mean + self._randn(*mean.shape) * (0.5 * logvar).exp()
            out = self.generator(torch.cat([z, self._randn(b, z_dim)]))             # (2B, 3, R, R): recon, prior
            score, feats = self.critic.forward_with_features(out)
        score, feats = score.float(), feats.float()
        xr = out[:b].float()
        rec_feat = F.mse_loss(feats[:b], f_real)
        rec_pix = F.l1_loss(xr, x)
        kl = kl_divergence(mean.float(), logvar.float())
        adv = -score.mean()
        loss_g = cfg.feature_weight * rec_feat + cfg.pixel_weight * rec_pix + cfg.kl_weight * kl + cfg.adv_weight * adv
        losses.update(rec_feat=rec_feat.detach(), rec_pix=rec_pix.detach(), kl=kl.detach(), adv=adv.detach(), loss_g=loss_g.detach())
        if self.nan_hook is not None:
            self.nan_hook(self.step, losses)
        self._check_finite(losses)  # before the G step: a NaN here must not reach the weights
        self._backward_step(self.phase_g, loss_g)
        self.critic.requires_grad_(True)
        self._update_ema()
        self.step += 1
        return {k: float(v) for k, v in losses.items()}

    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        vals = torch.stack([v.float() for v in losses.values()])
        vals = D.all_reduce_mean(vals, self.dist)  # every rank takes the same decision
        bad = ~torch.isfinite(vals) | (vals.abs() > EXPLODE)
        if bool(bad.any()):  # note: a CPU-GPU sync point, once per step
            names = [k for k, b in zip(losses, bad.tolist()) if b]
            raise Divergence(f"loss {', '.join(names)} diverged at step {self.step}: {[float(v) for v in vals]}")

    @torch.no_grad()
    def _update_ema(self) -> None:
        d = ema_decay_at(self.step, self.cfg.ema_decay)
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            p_ema.lerp_(p, 1.0 - d)
        D.average_buffers(self.generator, self.dist)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers()):
            b_ema.copy_(b)  # BatchNorm statistics follow the live generator

    # ----------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Held-out reconstruction PSNR/SSIM (encoder mean -> EMA generator), sample diversity and colourfulness."""
        self.encoder.eval()
        try:
            out: dict[str, float] = {}
            if len(self._held):
                x = self._held.float().div(127.5).sub(1.0)
                recon = torch.cat([self.generator_ema(self.encoder(c)[0]) for c in x.split(64)])
                out["psnr_db"] = float(psnr(recon, x).mean())
                out["ssim"] = float(ssim(recon, x).mean())
                out["l1"] = float((recon - x).abs().mean())
            samples = self.generator_ema(self.fixed_z)
            out["diversity"] = diversity(samples)
            out["vendi"] = vendi(samples)
            out["colourfulness"] = colourfulness_mean(samples)
            out["data_colourfulness"] = colourfulness_mean(self._images[:256].float().div(127.5).sub(1.0))
            out["data_diversity"] = diversity(self._images[:64].float().div(127.5).sub(1.0))
            return out
        finally:
            self.encoder.train()

    @torch.no_grad()
    def write_grids(self) -> None:
        samples = self.generator_ema(self.fixed_z)
        save_png(self.out / "samples" / f"samples-{self.step:06d}.png", make_grid(tensor_to_images(samples), cols=8))
        if len(self._held):
            self.encoder.eval()
            x = self._held[:32].float().div(127.5).sub(1.0)
            recon = self.generator_ema(self.encoder(x)[0])
            self.encoder.train()
            save_png(self.out / "samples" / f"recon-{self.step:06d}.png", pairs_grid(x, recon))

    # ----------------------------------------------------------------- checkpoints
    def card(self) -> dict[str, Any]:
        hw = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else f"CPU ({platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()})"
        return {
            "kind": "vaegan", "name": self.out.name, "config": self.model_cfg.to_dict(), "recipe": self.cfg.to_dict(),
            "data": self.dataset.card_entry(), "steps": self.step, "metrics": self.metrics,
            "training": {"hardware": hw, "processes": self.dist.world, "time_s": round(self.train_time_s, 1),
                         "images_seen": self.step * self.cfg.batch_size * (self.cfg.n_critic + 1),
                         "lr_scale": self.lr_scale, "rollbacks": self.rollbacks, "collapses": self.collapses,
                         "torch": torch.__version__},
        }

    def checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The checkpoint dict: every tensor needed to continue exactly, and the card with the structure."""
        tensors: dict[str, torch.Tensor] = {}
        for name, m in (("encoder", self.encoder), ("generator", self.generator), ("generator_ema", self.generator_ema), ("critic", self.critic)):
            tensors.update({f"{name}.{k}": v for k, v in m.state_dict().items()})
        optim = {}
        for phase in (self.phase_g, self.phase_d):
            t, structure = flatten_optimizer(phase.opt, f"opt_{phase.name}")
            tensors.update(t)
            optim[phase.name] = structure
        for r, s in enumerate(D.gather_uint8(generator_state(self.noise), self.dist, self.device)):
            tensors[f"rng.noise.rank{r}"] = s
        if self._scaler is not None:
            optim["scaler"] = self._scaler.state_dict()
        card = self.card()
        card["resume"] = {"step": self.step, "d_iter": self.d_iter, "lr_scale": self.lr_scale, "rollbacks": self.rollbacks,
                          "collapse": self.collapse.state(), "collapses": self.collapses,
                          "sampler": self.sampler.state(), "optim": optim, "world": self.dist.world,
                          "train_time_s": self.train_time_s}
        return tensors, card

    def save(self) -> None:
        """Rank 0 writes the training checkpoint and the inference export; every rank must call (gathers RNG)."""
        D.check_consistency({"encoder": self.encoder, "generator": self.generator, "generator_ema": self.generator_ema,
                             "critic": self.critic}, self.dist, self.device)
        tensors, card = self.checkpoint()
        if self.dist.is_main:
            save_checkpoint(self.out / CHECKPOINT, tensors, card)
            export_inference(tensors, card, self.out / MODEL)
            export_inference(tensors, card, self.out / SNAPSHOTS / f"model-{self.step:06d}", half=True)
        D.barrier(self.dist)

    def load(self, path: str | Path) -> None:
        """Continue exactly from a training checkpoint written by save()."""
        tensors, card = load_checkpoint(path, device="cpu")
        where = str(paths_for(path)[0])
        res = card.get("resume")
        if not isinstance(res, dict):
            raise CheckpointError(f"{where}: not a training checkpoint (no 'resume' section); cannot continue from it")
        for name, m in (("encoder", self.encoder), ("generator", self.generator), ("generator_ema", self.generator_ema), ("critic", self.critic)):
            load_into(m, {k: v for k, v in tensors.items() if k.startswith(name + ".")}, where, prefix=name + ".")
        for phase in (self.phase_g, self.phase_d):
            prefix = f"opt_{phase.name}"
            unflatten_optimizer(phase.opt, {k: v.to(self.device) for k, v in tensors.items() if k.startswith(prefix + ".")},
                                res["optim"][phase.name], prefix, where)
        if self._scaler is not None and "scaler" in res["optim"]:
            self._scaler.load_state_dict(res["optim"]["scaler"])
        rng_key = f"rng.noise.rank{self.dist.rank}"
        if rng_key in tensors and int(res.get("world", 1)) == self.dist.world:
            set_generator_state(self.noise, tensors[rng_key])
        else:  # a different process count: a fresh, still deterministic stream per rank
            self.noise.manual_seed(self.cfg.seed * 7919 + 1 + self.dist.rank + 104729 * int(res["step"]))
        self.step, self.d_iter = int(res["step"]), int(res["d_iter"])
        self.lr_scale, self.rollbacks = float(res["lr_scale"]), int(res["rollbacks"])
        self.collapse.load_state(res.get("collapse") or {})
        self.collapses = int(res.get("collapses", 0))
        self.train_time_s = float(res.get("train_time_s", 0.0))
        self.sampler.load_state(res["sampler"])
        self.metrics = dict(card.get("metrics") or {})

    # ----------------------------------------------------------------- the loop
    def fit(self) -> int:
        """Train to cfg.steps. Returns 0 when done, 130 when stopped by Ctrl-C (after saving a checkpoint)."""
        cfg, main = self.cfg, self.dist.is_main
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(json.dumps(self.cfg.to_dict(), indent=2) + "\n")
        if self.step == 0:
            self.save()  # a step-0 checkpoint: rollback always has somewhere to go
        stop = _StopFlag()
        bar = _progress(self.step, cfg.steps, main and self.progress)
        logf = open(self.out / "log.jsonl", "a") if main else None
        t_last, n_last = time.perf_counter(), self.step
        try:
            with stop:
                while self.step < cfg.steps and not self._agreed(stop.requested):
                    t0 = time.perf_counter()
                    try:
                        losses = self.train_step()
                    except Divergence as e:
                        self._rollback(str(e))
                        continue
                    self.train_time_s += time.perf_counter() - t0
                    bar.update(1)
                    at_checkpoint = self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps
                    if self.step % cfg.diversity_every == 0 or at_checkpoint:
                        was_collapsed = bool(self.live_diversity.get("collapse"))
                        verdict = self.check_collapse()
                        if verdict is not None and (cfg.on_collapse == "rollback" or not was_collapsed):  # warn once a collapse
                            self._on_collapse(verdict, bar)
                            if cfg.on_collapse == "rollback":
                                self._rollback(verdict.describe())  # never saved: the checkpoint stays the last healthy one
                                continue
                    if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                        now = time.perf_counter()
                        ips = (self.step - n_last) * cfg.batch_size * (cfg.n_critic + 1) / max(now - t_last, 1e-9)
                        t_last, n_last = now, self.step
                        shown = {k: f"{losses[k]:.3g}" for k in ("loss_d", "wdist", "rec_pix", "kl")}
                        if "vendi" in self.live_diversity:
                            shown["vendi"] = f"{self.live_diversity['vendi']:.1f}" + (" COLLAPSE" if self.live_diversity.get("collapse") else "")
                        bar.set_postfix(shown | {"img/s": f"{ips:.0f}"}, refresh=False)
                        if logf:
                            logf.write(json.dumps({"step": self.step, **{k: round(v, 6) for k, v in losses.items()},
                                                   "lr_g": self.phase_g.opt.param_groups[0]["lr"], "images_per_s": round(ips, 1),
                                                   **{f"{k}_live": v for k, v in self.live_diversity.items()}}) + "\n")
                            logf.flush()
                    if main and (self.step % cfg.sample_every == 0 or self.step == cfg.steps):
                        self.write_grids()
                    if at_checkpoint:
                        self._checkpoint_with_metrics()
            if self.step < cfg.steps:  # left the loop early: Ctrl-C
                self._checkpoint_with_metrics()
                if main:
                    bar.write(f"interrupted at step {self.step}: checkpoint saved in {self.out}; continue with --resume")
                return 130
            return 0
        finally:
            bar.close()
            if logf:
                logf.close()

    def _agreed(self, flag: bool) -> bool:
        """True on every rank if any rank saw Ctrl-C, so all stop at the same step."""
        if not self.dist.enabled:
            return flag
        return bool(D.all_reduce_mean(torch.tensor([float(flag)], device=self.device), self.dist).item() > 0)

    def _checkpoint_with_metrics(self) -> None:
        if self.dist.is_main:
            self.metrics = {k: round(v, 5) for k, v in self.evaluate().items()}
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(json.dumps({"step": self.step, **self.metrics}) + "\n")
        self.save()

    def check_collapse(self) -> CollapseVerdict | None:
        """Measure the live generator's diversity on the fixed latents and ask the detector; every rank
        measures (same weights, same latents) and they agree, so all roll back together."""
        d, _ = generator_diversity(self.generator, self.fixed_z)
        verdict = self.collapse.update(self.step, d.vendi, d.distance)
        self.live_diversity = {"vendi": round(d.vendi, 3), "distance": round(d.distance, 5), "collapse": verdict is not None}
        if self._agreed(verdict is not None) and verdict is None:  # another rank saw it
            verdict = CollapseVerdict(self.step, d.vendi, d.distance, self.collapse.peak, "seen by another process")
        return verdict

    def _on_collapse(self, verdict: CollapseVerdict, bar: Any) -> None:
        self.collapses += 1
        action = "rolling back" if self.cfg.on_collapse == "rollback" else "carrying on (--on-collapse rollback to undo it)"
        msg = f"{verdict.describe()}; {action}"
        if self.dist.is_main:
            log.warning(msg)
            bar.write(f"perform train: warning: {msg}")

    def _rollback(self, why: str) -> None:
        self.rollbacks += 1
        if self.rollbacks > self.cfg.max_rollbacks:
            raise PerformError(f"training diverged {self.rollbacks} times; last: {why}. Try a lower learning rate or a larger kl_weight")
        rollbacks, scale, collapses = self.rollbacks, self.lr_scale * self.cfg.rollback_lr_factor, self.collapses
        self.load(self.out / CHECKPOINT)
        self.rollbacks, self.lr_scale, self.collapses = rollbacks, scale, collapses
        # step the noise on so the retried steps do not replay the exact batch that blew up
        self.noise.manual_seed(int(torch.randint(0, 2**62, (1,), generator=self.noise, device=self.device)) + rollbacks)
        msg = f"{why}; rolled back to step {self.step}, learning rates now x{self.lr_scale:g}"
        if self.dist.is_main:
            log.warning(msg)
            print(f"perform train: warning: {msg}", flush=True)


def export_inference(tensors: dict[str, torch.Tensor], card: dict[str, Any], path: str | Path, half: bool = False,
                     extra: dict[str, Any] | None = None) -> Path:
    """Write encoder.* and generator_ema.* (optionally fp16) with a card that load_model reads."""
    keep = {k: v for k, v in tensors.items() if k.startswith(("encoder.", "generator_ema."))}
    if half:
        keep = {k: (v.half() if v.is_floating_point() else v) for k, v in keep.items()}
    out = {k: v for k, v in card.items() if k not in ("resume", "tensors", "format", "format_version")}
    out["weights_dtype"] = "float16" if half else "float32"
    out.update(extra or {})
    return save_checkpoint(path, keep, out)


def resume_config(run_dir: str | Path) -> TrainConfig:
    """The resolved config a run was started with, read from its training checkpoint card."""
    card = read_card(Path(run_dir) / CHECKPOINT)
    return from_dict(card.get("recipe") or {}, str(paths_for(Path(run_dir) / CHECKPOINT)[1]))


class _StopFlag:
    """First Ctrl-C asks the loop to stop after the current step (and save); a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_StopFlag":
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C stays the default
            self._old = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _progress(start: int, total: int, enabled: bool):
    return tqdm(total=total, initial=start, disable=not enabled, unit="step", dynamic_ncols=True, smoothing=0.1)
