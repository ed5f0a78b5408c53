"""The data-free generator pair as a GenerativeModel: both generators on one latent, trajectory playback.

A pair checkpoint holds a sequence of snapshots of the two generators (keys `snap{k}.a.*`, `snap{k}.b.*`,
k = 0 .. n-1 in training order); the card lists them (`snapshots: [{step, metrics}, ...]`). Playback
interpolates the weights between consecutive snapshots: snapshot position 0 is the first, 1 the last.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from perform.nets.checkpoint import CheckpointError, ModelInfo, load_into, save_checkpoint
from perform.nets.directions import sefa_directions as _sefa_entries
from perform.nets.device import pick_device
from perform.nets.generative import card_config, card_directions
from perform.nets.precision import HostIO, place, precision_dtype
from perform.nets.vaegan import Generator, VAEGANConfig

MODES = ("side_by_side", "a", "b", "crossfade")
_SNAP_KEY = re.compile(r"^snap(\d+)\.(a|b)\.")

StateDict = dict[str, torch.Tensor]


def pair_tensors(snapshots: list[tuple[StateDict, StateDict]], dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
    """Flatten [(state_a, state_b), ...] into checkpoint keys; float tensors stored as `dtype`."""
    out: dict[str, torch.Tensor] = {}
    for k, pair in enumerate(snapshots):
        for side, state in zip("ab", pair):
            for name, t in state.items():
                t = t.detach().cpu()
                out[f"snap{k}.{side}.{name}"] = t.to(dtype) if t.is_floating_point() else t.clone()
    return out


def save_pair(path: str | Path, snapshots: list[tuple[StateDict, StateDict]], card: dict[str, Any], dtype: torch.dtype = torch.float16) -> Path:
    """Write a pair checkpoint; `card` needs `config` (the generators' VAEGANConfig dict) and `snapshots`."""
    if len(card.get("snapshots", [])) != len(snapshots):
        raise ValueError("card['snapshots'] must list one entry per snapshot")
    return save_checkpoint(path, pair_tensors(snapshots, dtype), {"kind": "pair", **card})


def sefa_directions(generators: list[Generator], k: int = 8) -> dict[str, dict[str, Any]]:
    """SeFa directions (card entries, as perform.nets.directions writes them) of several generators at once:
    their first-layer weights are stacked, each scaled to unit norm, so a direction moves all of them."""
    ws = [g.fc.weight.detach().float().cpu() for g in generators]  # (out, Z) each
    stacked = torch.cat([w / (w.norm() + 1e-12) for w in ws], 0)
    # the factorisation only reads `.fc.weight`: hand it the stacked matrix in that shape
    return _sefa_entries(SimpleNamespace(fc=SimpleNamespace(weight=stacked)), k)


@torch.no_grad()
def warm_batchnorm(gen: Generator, batches: list[torch.Tensor]) -> None:
    """Set BatchNorm running statistics to what the net does now (a cumulative average over `batches`
    of latents), so eval mode shows what the net makes rather than a near-flat image from the default
    (0, 1) statistics of a fresh net."""
    norms = [m for m in gen.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = gen.training
    gen.train()
    for z in batches:
        gen(z)
    gen.train(was_training)
    for m, mom in zip(norms, momenta):
        m.momentum = mom


class PairModel:
    """Two generators driven by the same latent; output mode and snapshot position set live.

    Thread-safe: the setters only record the request; the weights are blended inside generate().
    """

    def __init__(self, cfg: VAEGANConfig, snapshots: list[tuple[StateDict, StateDict]], info: ModelInfo,
                 device: torch.device, directions: dict[str, np.ndarray] | None = None, precision: str = "fp32") -> None:
        if not snapshots:
            raise ValueError("a pair model needs at least one snapshot")
        dtype = precision_dtype(precision, device)
        self.cfg = cfg
        self.info = info
        self.device = device
        self.precision = precision
        self.latent_dim = cfg.latent_dim
        self.resolution = cfg.resolution
        # blending writes into these in place (load_state_dict copies), so dtype and layout stay as placed
        self.gen_a = place(Generator(cfg), device, dtype)
        self.gen_b = place(Generator(cfg), device, dtype)
        self._io = HostIO(device, dtype)
        # float32 on the device once, so blending is a few lerps and no transfers
        self._snaps = [tuple({k: v.to(device, torch.float32) if v.is_floating_point() else v.to(device) for k, v in s.items()}
                             for s in pair) for pair in snapshots]
        self._lock = threading.Lock()
        self._mode = "side_by_side"
        self._crossfade = 0.5
        self._position = 1.0
        self._applied: float | None = None
        self._directions = directions if directions is not None else {}

    # ---- live parameters ----

    @property
    def n_snapshots(self) -> int:
        return len(self._snaps)

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def snapshot_position(self) -> float:
        return self._position

    def set_mode(self, mode: str, crossfade: float = 0.5) -> None:
        """'side_by_side' (A left, B right), 'a', 'b' or 'crossfade' (0 = A, 1 = B)."""
        if mode not in MODES:
            raise ValueError(f"pair mode {mode!r} unknown; expected one of {MODES}")
        self._mode, self._crossfade = mode, float(min(max(crossfade, 0.0), 1.0))

    def set_snapshot_position(self, p: float) -> None:
        """0 = first snapshot of the trajectory, 1 = last; weights interpolated in between."""
        p = float(p)
        self._position = min(max(p, 0.0), 1.0) if np.isfinite(p) else self._position

    @property
    def output_shape(self) -> tuple[int, int]:
        r = self.resolution
        return (r, 2 * r) if self._mode == "side_by_side" else (r, r)

    @property
    def directions(self) -> dict[str, np.ndarray]:
        return self._directions

    def generators(self) -> dict[str, torch.nn.Module]:
        """Both generators by name, for network bending (a bend changes both: perform.nets.bending)."""
        return {"a": self.gen_a, "b": self.gen_b}

    # ---- inference ----

    @torch.no_grad()
    def _apply_position(self, p: float) -> None:
        t = p * (len(self._snaps) - 1)
        i = min(int(np.floor(t)), len(self._snaps) - 2) if len(self._snaps) > 1 else 0
        f = t - i
        for side, gen in enumerate((self.gen_a, self.gen_b)):
            lo = self._snaps[i][side]
            hi = self._snaps[min(i + 1, len(self._snaps) - 1)][side]
            state = {k: (torch.lerp(lo[k], hi[k], f) if lo[k].is_floating_point() else (hi[k] if f >= 0.5 else lo[k]))
                     for k in lo}
            gen.load_state_dict(state)
        self._applied = p

    @torch.inference_mode()
    def generate_pair(self, latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both generators' images (R, R, 3) uint8 for one latent (Z,)."""
        with self._lock:
            if self._applied != self._position:
                self._apply_position(self._position)
            z = self._io.latent(latent)  # (1, Z)
            return self._io.images(self.gen_a(z))[0], self._io.images(self.gen_b(z))[0]

    @torch.inference_mode()
    def generate(self, latent: np.ndarray, crop: np.ndarray | None = None, mix: float = 0.0) -> np.ndarray:
        """The crop and mix are ignored: a pair has no encoder. Returns output_shape + (3,) uint8."""
        with self._lock:
            if self._applied != self._position:
                self._apply_position(self._position)
            mode, fade = self._mode, self._crossfade
            z = self._io.latent(latent)  # (1, Z)
            if mode == "a":
                return self._io.images(self.gen_a(z))[0]
            if mode == "b":
                return self._io.images(self.gen_b(z))[0]
            xa, xb = self.gen_a(z), self.gen_b(z)                      # (1, 3, R, R) each
            if mode == "crossfade":  # blended in fp32 whatever the nets ran in
                return self._io.images(torch.lerp(xa.float(), xb.float(), fade))[0]
            return self._io.images(torch.cat([xa, xb], dim=3))[0]      # (R, 2R, 3)


def split_pair_tensors(tensors: dict[str, torch.Tensor], where: str) -> list[tuple[StateDict, StateDict]]:
    """Inverse of pair_tensors; names the file on a malformed key set."""
    by_k: dict[int, tuple[StateDict, StateDict]] = {}
    for key, t in tensors.items():
        m = _SNAP_KEY.match(key)
        if not m:
            raise CheckpointError(f"{where}: unexpected key {key!r} in a pair checkpoint (expected snap<k>.a.* / snap<k>.b.*)")
        k, side = int(m.group(1)), m.group(2)
        by_k.setdefault(k, ({}, {}))[0 if side == "a" else 1][key[m.end():]] = t
    if sorted(by_k) != list(range(len(by_k))) or not by_k:
        raise CheckpointError(f"{where}: snapshots should be numbered snap0 .. snap<n-1>; found {sorted(by_k)}")
    return [by_k[k] for k in range(len(by_k))]


def load_pair(tensors: dict[str, torch.Tensor], card: dict[str, Any], where: str, device: torch.device,
              precision: str = "fp32") -> PairModel:
    cfg = card_config(card, where)
    snaps = split_pair_tensors(tensors, where)
    listed = card.get("snapshots")
    if not isinstance(listed, list) or len(listed) != len(snaps):
        raise CheckpointError(f"{where}: card key 'snapshots' should list {len(snaps)} entries (one per snapshot in the weights)")
    probe = Generator(cfg)
    for k, (a, b) in enumerate(snaps):  # check every snapshot's keys and shapes, naming the one that is wrong
        load_into(probe, a, f"{where} [snap{k}.a]")
        load_into(probe, b, f"{where} [snap{k}.b]")
    info = ModelInfo(card.get("name", Path(where).stem), "pair", bool(card.get("untrained", False)), card)
    directions = card_directions(card, cfg.latent_dim)
    model = PairModel(cfg, snaps, info, device, directions, precision)
    if not directions:
        model._apply_position(1.0)
        model._directions = card_directions({"directions": sefa_directions([model.gen_a, model.gen_b])}, cfg.latent_dim)
    return model


def random_pair(cfg: VAEGANConfig | None = None, seed: int = 0, n_snapshots: int = 2,
                device: str | torch.device | None = None, precision: str = "fp32") -> PairModel:
    """An untrained pair with seeded random snapshots, for tests and for running before any model exists."""
    cfg = cfg or VAEGANConfig(resolution=64, latent_dim=32, width=16, max_channels=64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        snaps = []
        for _ in range(n_snapshots):
            pair = (Generator(cfg), Generator(cfg))
            for g in pair:
                warm_batchnorm(g, [torch.randn(16, cfg.latent_dim) for _ in range(2)])
            snaps.append(tuple(g.state_dict() for g in pair))
    dev = device if isinstance(device, torch.device) else pick_device(device)
    info = ModelInfo(f"untrained-pair-{cfg.resolution}px-seed{seed}", "pair", True,
                     {"config": cfg.to_dict(), "untrained": True, "snapshots": [{"step": k} for k in range(n_snapshots)]})
    model = PairModel(cfg, snaps, info, dev, precision=precision)
    model._apply_position(1.0)
    model._directions = card_directions({"directions": sefa_directions([model.gen_a, model.gen_b])}, cfg.latent_dim)
    return model

