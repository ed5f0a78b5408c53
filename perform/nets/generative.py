"""What every model kind is to the generator stage: the GenerativeModel protocol, its loader signature,
and the latent directions read from a model card."""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np
import torch

from perform.nets.checkpoint import CheckpointError, ModelInfo
from perform.nets.vaegan import VAEGANConfig


class GenerativeModel(Protocol):
    """Optional, for models with live network parameters (blends, trajectories, bends):
    `net_params() -> {name: (low, high, default)}` and `set_net_params(values)` (unknown names ignored, missing
    ones back to their default, non-finite values never reach the network); called before `generate`."""

    info: ModelInfo
    latent_dim: int
    resolution: int
    device: torch.device

    @property
    def output_shape(self) -> tuple[int, int]:
        """(height, width) of generated images."""
        ...

    @property
    def directions(self) -> dict[str, np.ndarray]:
        """Named unit latent directions from the card (may be empty)."""
        ...

    def generate(self, latent: np.ndarray, crop: np.ndarray | None = None, mix: float = 0.0) -> np.ndarray:
        """latent (Z,) float; crop (R, R, 3) uint8 aligned face or None; mix 0 = control latent only,
        1 = face latent only. Returns (H, W, 3) uint8."""
        ...

    # Optional, for models with live network parameters (bends, blends, trajectories; issue 13):
    #   net_params(self) -> dict[str, tuple[float, float, float]]   name -> (low, high, default)
    #   set_net_params(self, values: Mapping[str, float]) -> None   unknown names ignored, missing = default,
    #                                                               non-finite values never reach the network
    # and, for models that can be bent: generators(self) -> dict[str, Generator] (perform.nets.bending).


def card_directions(card: dict[str, Any], latent_dim: int) -> dict[str, np.ndarray]:
    """Named unit directions stored in a card (`directions: {name: [floats]}`), validated."""
    out: dict[str, np.ndarray] = {}
    for name, vec in (card.get("directions") or {}).items():
        v = np.asarray(vec.get("vector") if isinstance(vec, dict) else vec, dtype=np.float32)
        if v.shape != (latent_dim,):
            raise CheckpointError(f"model card direction {name!r} has shape {v.shape}, expected ({latent_dim},)")
        n = float(np.linalg.norm(v))
        out[name] = v / n if n > 0 else v
    return out


# (weights, card, where the checkpoint came from, device, precision) -> a model; one per kind, listed in
# perform.nets.kinds; precision is one of perform.nets.precision.PRECISIONS
LoaderFn = Callable[[dict[str, torch.Tensor], dict[str, Any], str, torch.device, str], GenerativeModel]


def card_config(card: dict[str, Any], where: str) -> VAEGANConfig:
    """The network configuration a card stores (both kinds build on the VAE-GAN's generator), or an error
    naming the file."""
    try:
        return VAEGANConfig.from_dict(card["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{where}: bad 'config' in model card: {e}") from None
