"""One step of the diverging fine-tune, after Broad, Leymarie and Grierson's "Amplifying the uncanny".

The generator of a trained VAE-GAN is fine-tuned with the adversarial objective reversed: it seeks what a
critic, still learning the real crops, calls fake. A structure term keeps the blurred image close to what
the base model made for the same latent, so the coarse layout of a face stays while everything finer is
let go. BatchNorm statistics are held (the generator is trained in eval mode): the network trained is the
network played. perform.training.diverge.run drives the steps and keeps the snapshots.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from perform.errors import PerformError
from perform.nets.checkpoint import load_checkpoint, load_into
from perform.nets.generative import card_config
from perform.nets.vaegan import VAEGAN, Encoder, Generator, images_to_tensor
from perform.training.dataset import FaceDataset
from perform.training.diverge.config import DivergeConfig
from perform.training.vaegan.trainer import gradient_penalty

StateDict = dict[str, torch.Tensor]


@torch.no_grad()
def distance_from_data(gen: Generator, encoder: Encoder, z: torch.Tensor, real: torch.Tensor,
                       real_mu: torch.Tensor, chunk: int = 16) -> dict[str, float]:
    """How far the generator's images for latents `z` (E, Z) are from the data: the mean over images of the
    distance to the nearest training crop, in pixels (RMS, 0..255 scale) and in the encoder's latent space
    (the crop's encoder mean). real: (N, 3, R, R) in [-1, 1]; real_mu: (N, Z)."""
    flat_real = real.flatten(1)  # (N, 3RR)
    pix, enc = [], []
    for i in range(0, len(z), chunk):
        x = gen(z[i:i + chunk])                                          # (e, 3, R, R)
        d = torch.cdist(x.flatten(1), flat_real) / flat_real.shape[1] ** 0.5  # (e, N) RMS in [-1, 1] units
        pix.append(d.min(1).values * 127.5)
        enc.append(torch.cdist(encoder(x)[0], real_mu).min(1).values)    # (e,)
    return {"pixel_distance": float(torch.cat(pix).mean()), "encoder_distance": float(torch.cat(enc).mean())}


class DivergeTrainer:
    """The base model's encoder (frozen) and generator (trained), a frozen copy of that generator (the
    structure reference) and a fresh critic; their optimisers and the data on the device."""

    def __init__(self, cfg: DivergeConfig, base_path: str | Path, data: FaceDataset, device: torch.device | str = "cpu") -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        tensors, card = load_checkpoint(base_path, "cpu")
        if card.get("kind") != "vaegan":
            raise PerformError(f"{base_path}: the diverge recipe starts from a VAE-GAN; this is a {card.get('kind')!r} model")
        self.base_card = card
        self.net_cfg = card_config(card, str(base_path))
        if data.resolution != self.net_cfg.resolution:
            raise PerformError(f"dataset crops are {data.resolution} px, the model {self.net_cfg.resolution} px")
        torch.manual_seed(cfg.seed)
        net = VAEGAN(self.net_cfg, with_critic=True)  # the critic starts fresh: cards ship no critic
        load_into(net.encoder, tensors, str(base_path), prefix="encoder.")
        prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in tensors) else "generator."
        load_into(net.generator, tensors, str(base_path), prefix=prefix)
        self.encoder = net.encoder.to(self.device).eval().requires_grad_(False)
        self.gen = net.generator.to(self.device).eval()
        self.base_gen = copy.deepcopy(self.gen).requires_grad_(False)
        self.critic = net.critic.to(self.device).train()
        self.opt_g = torch.optim.Adam(self.gen.parameters(), lr=cfg.lr_g, betas=(0.0, 0.9))
        self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr_d, betas=(0.0, 0.9))
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.real = images_to_tensor(data.images, self.device)  # (N, 3, R, R)
        with torch.no_grad():
            self.real_mu = torch.cat([self.encoder(self.real[i:i + 64])[0] for i in range(0, len(self.real), 64)])
        stats = card.get("latent_stats") or {}
        z_dim = self.net_cfg.latent_dim
        self.z_mean = torch.tensor(stats.get("mean", [0.0] * z_dim), dtype=torch.float32, device=self.device)
        self.z_std = torch.tensor(stats.get("std", [1.0] * z_dim), dtype=torch.float32, device=self.device)
        idx = np.linspace(0, len(self.real) - 1, min(cfg.eval_latents, len(self.real))).round().astype(int)
        self.z_eval = self.real_mu[torch.as_tensor(idx, device=self.device)]  # decodings of spread crops

    def _randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(high, (n,), generator=self.rng).to(self.device)

    def sample_z(self, n: int) -> torch.Tensor:
        """Latents of the show: a share from the card's latent statistics, the rest encoded training crops."""
        n_prior = int(round(n * self.cfg.prior_share))
        prior = self.z_mean + self.z_std * torch.randn(n_prior, self.z_mean.numel(), generator=self.rng).to(self.device)
        return torch.cat([prior, self.real_mu[self._randint(len(self.real_mu), n - n_prior)]])

    def critic_step(self) -> float:
        real = self.real[self._randint(len(self.real), self.cfg.batch_size)]
        with torch.no_grad():
            fake = self.gen(self.sample_z(self.cfg.batch_size))
        alpha = torch.rand(len(real), 1, 1, 1, generator=self.rng).to(self.device)
        loss = (self.critic(fake).mean() - self.critic(real).mean()
                + self.cfg.gp_lambda * gradient_penalty(self.critic, real, fake, alpha))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return float(loss.detach())

    def generator_step(self) -> dict[str, float]:
        z = self.sample_z(self.cfg.batch_size)
        x = self.gen(z)  # (B, 3, R, R)
        with torch.no_grad():
            x0 = self.base_gen(z)
        self.critic.requires_grad_(False)
        adv = self.critic(x).mean()  # reversed: the usual generator minimises -D(x); this one minimises D(x)
        self.critic.requires_grad_(True)
        k = self.cfg.keep_pool
        keep = F.l1_loss(F.avg_pool2d(x, k), F.avg_pool2d(x0, k))
        loss = self.cfg.adv_weight * adv + self.cfg.keep_weight * keep
        if not torch.isfinite(loss):
            raise PerformError("diverge recipe: the generator's loss is not finite; lower lr_g or adv_weight")
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {"adv": float(adv.detach()), "keep": float(keep.detach())}

    def step(self) -> dict[str, float]:
        d = [self.critic_step() for _ in range(self.cfg.n_critic)]
        return {"critic": sum(d) / len(d), **self.generator_step()}

    def distance(self) -> dict[str, float]:
        return distance_from_data(self.gen, self.encoder, self.z_eval, self.real, self.real_mu)

    def generator_state(self) -> StateDict:
        return {k: v.detach().to("cpu", copy=True) for k, v in self.gen.state_dict().items()}

    def encoder_state(self) -> StateDict:
        return {k: v.detach().to("cpu", copy=True) for k, v in self.encoder.state_dict().items()}

    def base_info(self) -> dict[str, Any]:
        c = self.base_card
        return {"name": c.get("name"), "data": (c.get("data") or {}).get("fingerprint"), "steps": c.get("steps")}
