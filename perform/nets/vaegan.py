"""VAE-GAN networks (Larsen et al. 2016): encoder -> (mean, log-variance), generator, WGAN-GP critic.

Resolution-configurable (64, 128, 256). Images are (B, 3, H, W) in [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

RESOLUTIONS = (32, 64, 128, 256)


@dataclass(frozen=True)
class VAEGANConfig:
    """Architecture of the three networks; stored as-is in the model card."""

    resolution: int = 64
    latent_dim: int = 64
    width: int = 32          # channels at the output resolution; doubles per halving ...
    max_channels: int = 256  # ... up to this cap

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {self.resolution}")
        if self.latent_dim < 1 or self.width < 1 or self.max_channels < self.width:
            raise ValueError(f"bad widths in {self}")

    @property
    def n_levels(self) -> int:
        """Number of 2x steps between 4x4 and the output resolution."""
        return int(math.log2(self.resolution // 4))

    def channels(self, res: int) -> int:
        return min(self.max_channels, self.width * self.resolution // res)

    @classmethod
    def from_dict(cls, d: dict) -> "VAEGANConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {unknown}; expected some of {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


class Generator(nn.Module):
    """z (B, Z) -> image (B, 3, R, R) in [-1, 1]. DCGAN-style transposed convolutions with BatchNorm."""

    def __init__(self, cfg: VAEGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c0 = cfg.channels(4)
        self.fc = nn.Linear(cfg.latent_dim, c0 * 16)
        self.fc_norm = nn.BatchNorm2d(c0)
        blocks = []
        res = 4
        for _ in range(cfg.n_levels):
            cin, cout = cfg.channels(res), cfg.channels(res * 2)
            blocks += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            res *= 2
        self.blocks = nn.Sequential(*blocks)
        self.to_rgb = nn.Conv2d(cfg.channels(res), 3, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c0 = self.cfg.channels(4)
        x = self.fc(z).view(-1, c0, 4, 4)  # (B, C0, 4, 4)
        x = F.relu(self.fc_norm(x))
        x = self.blocks(x)                  # (B, C, R, R)
        return torch.tanh(self.to_rgb(x))   # (B, 3, R, R)


def _down(cin: int, cout: int) -> list[nn.Module]:
    # GroupNorm normalises each sample on its own: safe with the per-sample gradient penalty (BatchNorm is not).
    return [nn.Conv2d(cin, cout, 4, 2, 1), nn.GroupNorm(min(32, cout // 4) or 1, cout), nn.LeakyReLU(0.2, inplace=True)]


class _DownStack(nn.Module):
    """image (B, 3, R, R) -> features (B, C4, 4, 4), keeping the intermediate maps."""

    def __init__(self, cfg: VAEGANConfig) -> None:
        super().__init__()
        self.from_rgb = nn.Sequential(nn.Conv2d(3, cfg.channels(cfg.resolution), 3, 1, 1), nn.LeakyReLU(0.2, inplace=True))
        layers = []
        res = cfg.resolution
        for _ in range(cfg.n_levels):
            layers.append(nn.Sequential(*_down(cfg.channels(res), cfg.channels(res // 2))))
            res //= 2
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.from_rgb(x)
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats


class Encoder(nn.Module):
    """image -> (mean, log-variance), each (B, Z)."""

    def __init__(self, cfg: VAEGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stack = _DownStack(cfg)
        self.head = nn.Linear(cfg.channels(4) * 16, 2 * cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.stack(x)[-1].flatten(1)            # (B, C4*16)
        mean, logvar = self.head(h).chunk(2, dim=1)  # (B, Z) each
        return mean, logvar.clamp(-12.0, 8.0)


class Critic(nn.Module):
    """WGAN critic: image -> score (B,). `features` gives the map used for Larsen's learned similarity."""

    def __init__(self, cfg: VAEGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stack = _DownStack(cfg)
        self.head = nn.Linear(cfg.channels(4) * 16, 1)
        # the similarity layer: the map at 1/4 of the input resolution (deep enough to be perceptual, still spatial)
        self.feature_level = min(1, cfg.n_levels - 1)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.stack(x)
        return self.head(feats[-1].flatten(1)).squeeze(1), feats[self.feature_level]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]


class VAEGAN(nn.Module):
    """The three networks together. Inference needs only encoder and generator."""

    def __init__(self, cfg: VAEGANConfig, with_critic: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.generator = Generator(cfg)
        self.critic = Critic(cfg) if with_critic else None

    @torch.no_grad()
    def encode_mean(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)[0]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


def images_to_tensor(images_u8, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, H, W, 3) or (H, W, 3) uint8 numpy -> (B, 3, H, W) float in [-1, 1]."""
    t = torch.as_tensor(images_u8, device=device)
    if t.ndim == 3:
        t = t.unsqueeze(0)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def tensor_to_images(x: torch.Tensor):
    """(B, 3, H, W) in [-1, 1] -> (B, H, W, 3) uint8 numpy (contiguous)."""
    x = ((x.detach().float().clamp(-1, 1) + 1.0) * 127.5).round_().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()
