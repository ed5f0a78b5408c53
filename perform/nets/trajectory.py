"""A VAE-GAN whose generator plays back a run's snapshots live: `trajectory.position` 0 = first, 1 = last.

The checkpoint (kind `trajectory`) holds the encoder (`encoder.*`) and the generator's snapshots in the
pair recipe's snapshot naming, one side (`snap{k}.g.*`, k = 0 .. n-1 in training order); the card lists
them (`snapshots: [{step, ...metrics}, ...]`, as a pair card does). Between two snapshots the weights are
interpolated on the device into the live generator (perform.nets.live_weights): positions on a snapshot
are copies of it, bit for bit.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from perform.nets.checkpoint import CheckpointError, ModelInfo, load_into, save_checkpoint
from perform.nets.generative import card_config, card_directions
from perform.nets.live_weights import LiveWeights, OnLiveGenerator, StateDict
from perform.nets.netparams import NetParams
from perform.nets.vaegan import VAEGAN
from perform.nets.vaegan_model import VAEGANModel

POSITION = "trajectory.position"
_SNAP_KEY = re.compile(r"^snap(\d+)\.g\.")


def trajectory_tensors(encoder: StateDict, snapshots: Sequence[StateDict], dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
    """Checkpoint keys for an encoder and generator snapshots; float tensors stored as `dtype`."""
    def store(t: torch.Tensor) -> torch.Tensor:
        t = t.detach().cpu()
        return t.to(dtype) if t.is_floating_point() else t.clone()

    out = {f"encoder.{k}": store(v) for k, v in encoder.items()}
    for i, state in enumerate(snapshots):
        out.update({f"snap{i}.g.{k}": store(v) for k, v in state.items()})
    return out


def save_trajectory(path: str | Path, encoder: StateDict, snapshots: Sequence[StateDict], card: dict[str, Any],
                    dtype: torch.dtype = torch.float16) -> Path:
    """Write a trajectory checkpoint; `card` needs `config` and `snapshots` (one entry per snapshot)."""
    if len(card.get("snapshots", [])) != len(snapshots):
        raise ValueError("card['snapshots'] must list one entry per snapshot")
    return save_checkpoint(path, trajectory_tensors(encoder, snapshots, dtype), {"kind": "trajectory", **card})


class TrajectoryModel(OnLiveGenerator):
    """Encoder mean of the face crop mixed with the control latent, decoded by the generator at the
    trajectory's position. Live parameter `trajectory.position` (0..1); thread-safe as BlendModel is."""

    def __init__(self, base: VAEGANModel, snapshots: Sequence[StateDict], position: float = 0.0) -> None:
        if not snapshots:
            raise ValueError("a trajectory needs at least one snapshot")
        self.base = base
        self._weights = LiveWeights(base.net.generator, snapshots)
        self.info = base.info
        self.latent_dim, self.resolution, self.device = base.latent_dim, base.resolution, base.device
        self.precision = base.precision
        self.params = NetParams({POSITION: (0.0, 1.0, 0.0)})
        self.params.declare({POSITION: position})
        self._lock = threading.Lock()
        self.writes = 0

    @property
    def n_snapshots(self) -> int:
        return self._weights.n_sources

    def generate(self, latent: np.ndarray, crop: np.ndarray | None = None, mix: float = 0.0) -> np.ndarray:
        with self._lock:
            self._apply(self.params.values[POSITION])
            return self.base.generate(latent, crop, mix)

    def apply(self) -> None:
        """Write the live weights for the current position now (generate does it itself)."""
        with self._lock:
            self._apply(self.params.values[POSITION])

    def _apply(self, p: float) -> None:
        n = self._weights.n_sources
        t = p * (n - 1)
        i = min(int(np.floor(t)), max(n - 2, 0))
        j = min(i + 1, n - 1)
        self.writes += self._weights.set_all(i, j, t - i)


def split_trajectory_tensors(tensors: Mapping[str, torch.Tensor], where: str) -> tuple[StateDict, list[StateDict]]:
    """(encoder state, [generator state per snapshot]); names the file on a malformed key set."""
    encoder: dict[str, torch.Tensor] = {}
    by_k: dict[int, dict[str, torch.Tensor]] = {}
    for key, t in tensors.items():
        if key.startswith("encoder."):
            encoder[key[len("encoder."):]] = t
            continue
        m = _SNAP_KEY.match(key)
        if not m:
            raise CheckpointError(f"{where}: unexpected key {key!r} in a trajectory checkpoint (expected encoder.* / snap<k>.g.*)")
        by_k.setdefault(int(m.group(1)), {})[key[m.end():]] = t
    if not by_k or sorted(by_k) != list(range(len(by_k))):
        raise CheckpointError(f"{where}: snapshots should be numbered snap0 .. snap<n-1>; found {sorted(by_k)}")
    return encoder, [by_k[k] for k in range(len(by_k))]


def load_trajectory(tensors: dict[str, torch.Tensor], card: dict[str, Any], where: str, device: torch.device,
                    precision: str = "fp32") -> TrajectoryModel:
    cfg = card_config(card, where)
    encoder, snaps = split_trajectory_tensors(tensors, where)
    listed = card.get("snapshots")
    if not isinstance(listed, list) or len(listed) != len(snaps):
        raise CheckpointError(f"{where}: card key 'snapshots' should list {len(snaps)} entries (one per snapshot in the weights)")
    net = VAEGAN(cfg, with_critic=False)
    load_into(net.encoder, encoder, f"{where} [encoder.*]")
    for k, s in enumerate(snaps):  # every snapshot's keys and shapes, naming the one that is wrong
        load_into(net.generator, s, f"{where} [snap{k}.g.*]")
    load_into(net.generator, snaps[0], f"{where} [snap0.g.*]")
    info = ModelInfo(card.get("name", Path(where).stem), "trajectory", bool(card.get("untrained", False)), card)
    base = VAEGANModel(net, info, device, card_directions(card, cfg.latent_dim), precision)
    return TrajectoryModel(base, snaps)
