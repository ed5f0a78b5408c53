"""The VAE-GAN as a GenerativeModel: encoder mean of a face crop mixed with the control latent, decoded."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from perform.nets.checkpoint import CheckpointError, ModelInfo, load_into
from perform.nets.device import pick_device
from perform.nets.generative import card_config, card_directions
from perform.nets.precision import HostIO, place, precision_dtype
from perform.nets.vaegan import VAEGAN, VAEGANConfig


class VAEGANModel:
    """Encoder mean of the face crop, mixed with the control latent, decoded by the generator."""

    def __init__(self, net: VAEGAN, info: ModelInfo, device: torch.device, directions: dict[str, np.ndarray] | None = None,
                 precision: str = "fp32") -> None:
        dtype = precision_dtype(precision, device)
        self.net = place(net, device, dtype)
        self.info = info
        self.device = device
        self.precision = precision
        self._io = HostIO(device, dtype)
        self.latent_dim = net.cfg.latent_dim
        self.resolution = net.cfg.resolution
        self._directions = directions or {}
        self._lock = threading.Lock()  # one inference at a time per model
        self._encoded: tuple[np.ndarray, torch.Tensor] | None = None  # (crop, its latent (1, Z)): the last one

    @property
    def output_shape(self) -> tuple[int, int]:
        return (self.resolution, self.resolution)

    @property
    def directions(self) -> dict[str, np.ndarray]:
        return self._directions

    def generators(self) -> dict[str, torch.nn.Module]:
        """The generator by name, for network bending (perform.nets.bending)."""
        return {"generator": self.net.generator}

    @torch.inference_mode()
    def encode(self, crop: np.ndarray) -> np.ndarray:
        """(R, R, 3) uint8 -> encoder mean (Z,)."""
        x = self._io.crop(crop)  # (1, 3, R, R), channels_last as numpy laid it out
        if x.shape[-1] != self.resolution:
            x = torch.nn.functional.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False)
        return self.net.encoder(x)[0][0].float().cpu().numpy()

    @torch.inference_mode()
    def generate(self, latent: np.ndarray, crop: np.ndarray | None = None, mix: float = 0.0) -> np.ndarray:
        with self._lock:
            z = self._io.latent(latent)  # (1, Z)
            if crop is not None and mix > 0.0:
                z = torch.lerp(z, self._face_latent(crop), float(min(max(mix, 0.0), 1.0)))
            return self._io.images(self.net.generator(z))[0]  # (R, R, 3)

    def _face_latent(self, crop: np.ndarray) -> torch.Tensor:
        """The crop's encoder mean (1, Z); a face held after it was lost sends the same crop every frame,
        and is encoded once."""
        if self._encoded is None or not np.array_equal(self._encoded[0], crop):
            self._encoded = (np.array(crop, copy=True), self._io.latent(self.encode(crop)))
        return self._encoded[1]


def load_vaegan(tensors: dict[str, torch.Tensor], card: dict[str, Any], where: str, device: torch.device,
                precision: str = "fp32") -> VAEGANModel:
    cfg = card_config(card, where)
    net = VAEGAN(cfg, with_critic=False)
    load_into(net.encoder, tensors, where, prefix="encoder.")
    gen_prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in tensors) else "generator."
    load_into(net.generator, tensors, where, prefix=gen_prefix)
    info = ModelInfo(card.get("name", Path(where).stem), "vaegan", bool(card.get("untrained", False)), card)
    return VAEGANModel(net, info, device, card_directions(card, cfg.latent_dim), precision)


def random_vaegan(cfg: VAEGANConfig | None = None, seed: int = 0, device: str | torch.device | None = None,
                  precision: str = "fp32") -> VAEGANModel:
    """An untrained VAE-GAN with seeded random weights, for tests and for running before any model exists."""
    cfg = cfg or VAEGANConfig()
    g = torch.random.fork_rng(devices=[])
    with g:
        torch.manual_seed(seed)
        net = VAEGAN(cfg, with_critic=False)
    # random BatchNorm statistics so outputs are not flat grey
    dev = device if isinstance(device, torch.device) else pick_device(device)
    info = ModelInfo(f"untrained-{cfg.resolution}px-seed{seed}", "vaegan", True, {"config": cfg.to_dict(), "untrained": True})
    model = VAEGANModel(net, info, dev, precision=precision)
    model.spec = ("untrained", cfg.to_dict(), seed, precision)
    return model
