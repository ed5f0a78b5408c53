"""Weight blending and layer swapping between two VAE-GAN generators of the same architecture, live.

One live generator holds (1 - α) · A + α · B per tensor, with α per layer group, and `swap` puts the
second model's weights into chosen layers. Blending runs on the device into the live network's own
tensors (perform.nets.live_weights), only for the tensors whose α changed: a fader moving every frame
costs a few lerps, never a reload. α = 0 and α = 1 are copies, so each end is its model bit for bit.

Layers are the generator's depth stages, named `g.<k>` from the latent side:

    g.0          the latent projection and its norm (fc, fc_norm)        4 x 4
    g.1 .. g.L   one upsampling block each (transposed conv + norm)       8 x 8 .. R x R
    g.<L+1>      the colour layer (to_rgb)                                R x R

and the groups follow StyleGAN's convention by the resolution a stage works at: coarse up to 8 x 8
(pose, layout), middle 16 to 32 (features), fine from 64 (or the output resolution, if smaller) up
(colour, texture). At 64 px: coarse g.0-g.1, middle g.2-g.3, fine g.4-g.5.

The face is encoded by the first model's encoder: the second is expected to share its latent space
(a fine-tune of it, as the diverging recipe makes); with an unrelated second model only latent-driven
images are exactly its own at α = 1.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from perform.errors import PerformError
from perform.mapping.spec import BLEND_GROUPS
from perform.nets.checkpoint import ModelInfo, load_checkpoint, read_card
from perform.nets.generative import card_config
from perform.nets.live_weights import LiveWeights, OnLiveGenerator
from perform.nets.netparams import NetParams
from perform.nets.vaegan import Generator, VAEGANConfig
from perform.nets.vaegan_model import VAEGANModel, load_vaegan

GROUPS = BLEND_GROUPS
ALPHA = "blend.alpha"
SWAP = "blend.swap"
GROUP_ALPHA = {g: f"{ALPHA}.{g}" for g in GROUPS}


class BlendError(PerformError):
    """Two models that cannot be blended, or a swap naming a layer the generator does not have."""


@dataclass(frozen=True, slots=True)
class GeneratorLayer:
    name: str            # g.<k>
    resolution: int      # the feature map size the stage writes
    group: str           # coarse | middle | fine
    prefixes: tuple[str, ...]  # its state-dict key prefixes


def generator_layers(cfg: VAEGANConfig) -> list[GeneratorLayer]:
    """The generator's depth stages, latent side first (see the module docstring)."""
    fine_from = min(64, cfg.resolution)

    def group(res: int) -> str:
        return "coarse" if res <= 8 else "fine" if res >= fine_from else "middle"

    out = [GeneratorLayer("g.0", 4, group(4), ("fc.", "fc_norm."))]
    res = 4
    for k in range(cfg.n_levels):  # Generator.blocks holds (conv, norm, relu) per level
        res *= 2
        out.append(GeneratorLayer(f"g.{k + 1}", res, group(res), (f"blocks.{3 * k}.", f"blocks.{3 * k + 1}.")))
    out.append(GeneratorLayer(f"g.{cfg.n_levels + 1}", cfg.resolution, group(cfg.resolution), ("to_rgb.",)))
    return out


def layer_of_key(layers: list[GeneratorLayer], key: str) -> GeneratorLayer:
    for layer in layers:
        if key.startswith(layer.prefixes):
            return layer
    raise KeyError(f"generator key {key!r} belongs to no layer")


def check_swap_layers(cfg: VAEGANConfig, swap: tuple[str, ...] | list[str]) -> None:
    """Refuse a swap naming a layer the generator does not have, with the valid choices."""
    names = [layer.name for layer in generator_layers(cfg)]
    for s in swap:
        if s not in names:
            raise BlendError(f"swap layer {s!r} unknown; this {cfg.resolution} px generator has {', '.join(names)}")


# ---- the weights a card holds ---------------------------------------------------------------------------
def generator_prefix(card: dict[str, Any], where: str | Path = "") -> str:
    """Where a card's generator weights are: the EMA generator of a VAE-GAN, the last snapshot of a trajectory."""
    keys = card.get("tensors") or {}
    if card.get("kind") == "trajectory":
        return f"snap{len(card.get('snapshots') or [1]) - 1}.g."
    if card.get("kind") == "vaegan":
        return "generator_ema." if any(k.startswith("generator_ema.") for k in keys) else "generator."
    raise BlendError(f"{where}: a {card.get('kind')!r} model cannot be blended (a VAE-GAN or a trajectory model can)")


def check_blendable(path_a: str | Path, path_b: str | Path, swap: tuple[str, ...] = ()) -> VAEGANConfig:
    """From the two cards alone (no weights read): same generator shapes, layer by layer, else a BlendError
    naming the first tensor whose shape differs and both files; then the swap's layer names. Returns the
    generators' config."""
    card_a, card_b = read_card(path_a), read_card(path_b)
    where = f"{path_a} with {path_b}"
    cfg_a = card_config(card_a, str(path_a))
    pa, pb = generator_prefix(card_a, path_a), generator_prefix(card_b, path_b)
    shapes_a = {k[len(pa):]: v.get("shape") for k, v in (card_a.get("tensors") or {}).items() if k.startswith(pa)}
    shapes_b = {k[len(pb):]: v.get("shape") for k, v in (card_b.get("tensors") or {}).items() if k.startswith(pb)}
    layers = generator_layers(cfg_a)
    with torch.device("meta"):  # the generator's keys in its own order, no weights allocated
        keys = list(Generator(cfg_a).state_dict())
    for key in keys:  # the first layer that differs, from the latent side
        layer = layer_of_key(layers, key).name
        a, b = shapes_a.get(key), shapes_b.get(key)
        if a is None:
            raise BlendError(f"{where}: the first has no generator tensor {key!r} (layer {layer})")
        if b is None:
            raise BlendError(f"{where}: layer {layer} ({key}) is missing from the second")
        if list(a) != list(b):
            raise BlendError(f"{where}: layer {layer} differs: {key} is {tuple(a)} in the first, "
                             f"{tuple(b)} in the second")
    check_swap_layers(cfg_a, swap)
    return cfg_a


def generator_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The generator weights a card's file holds (see generator_prefix), on the CPU."""
    tensors, card = load_checkpoint(path, "cpu")
    prefix = generator_prefix(card, path)
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


# ---- the live model -------------------------------------------------------------------------------------
class BlendModel(OnLiveGenerator):
    """A GenerativeModel whose generator is a live blend of two models' generators.

    Live parameters (net_params / set_net_params): `blend.alpha` (0 = first model, 1 = second) moves every
    group; `blend.alpha.<coarse|middle|fine>` (-1..1) shift one group from it, each group's α clamped to 0..1;
    `blend.swap` (>= 0.5: on) gives the swapped layers the second model's weights whatever α is.
    Thread-safe: the setter records values, generate() writes the weights under the model's lock.
    """

    def __init__(self, base: VAEGANModel, other: Mapping[str, torch.Tensor], names: tuple[str, str],
                 swap: tuple[str, ...] = (), defaults: Mapping[str, float] | None = None) -> None:
        cfg = base.net.cfg
        check_swap_layers(cfg, swap)
        self.base = base
        gen = base.net.generator
        own = {k: v.detach().clone() for k, v in gen.state_dict().items()}
        self._weights = LiveWeights(gen, [own, other])  # source 0: the first model, 1: the second
        layers = generator_layers(cfg)
        self._layer = {k: layer_of_key(layers, k) for k in self._weights.keys}
        self.swap_layers = tuple(swap)
        self.latent_dim, self.resolution, self.device = base.latent_dim, base.resolution, base.device
        self.precision = base.precision
        card = {**base.info.card, "blend": {"models": list(names), "swap": list(swap)}}
        self.info = ModelInfo(f"{names[0]}+{names[1]}", "blend", base.info.untrained, card)
        self.params = NetParams({ALPHA: (0.0, 1.0, 0.0), **{n: (-1.0, 1.0, 0.0) for n in GROUP_ALPHA.values()},
                                 SWAP: (0.0, 1.0, 0.0)})
        self.params.declare(defaults or {})
        self._lock = threading.Lock()
        self.writes = 0  # tensors written so far (the benchmark and tests read it)

    # ---- GenerativeModel ----
    def generate(self, latent: np.ndarray, crop: np.ndarray | None = None, mix: float = 0.0) -> np.ndarray:
        with self._lock:
            self._apply()
            return self.base.generate(latent, crop, mix)

    def apply(self) -> None:
        """Write the live weights for the current values now (generate does it itself; benchmarks time it alone)."""
        with self._lock:
            self._apply()

    # ---- live parameters ----
    def group_alphas(self) -> dict[str, float]:
        """Each group's α now: blend.alpha plus the group's shift, clamped to 0..1."""
        vals = self.params.values
        return {g: min(max(vals[ALPHA] + vals[GROUP_ALPHA[g]], 0.0), 1.0) for g in GROUPS}

    @torch.no_grad()
    def _apply(self) -> None:
        vals = self.params.values  # one read: a whole set, whatever the setter does meanwhile
        alphas = {g: min(max(vals[ALPHA] + vals[GROUP_ALPHA[g]], 0.0), 1.0) for g in GROUPS}
        swap_on = vals[SWAP] >= 0.5
        for key in self._weights.keys:
            layer = self._layer[key]
            a = 1.0 if swap_on and layer.name in self.swap_layers else alphas[layer.group]
            self.writes += self._weights.set(key, 0, 1, a)


def build_blend(path_a: str | Path, path_b: str | Path, device: torch.device, precision: str = "fp32",
                swap: tuple[str, ...] = (), defaults: Mapping[str, float] | None = None) -> BlendModel:
    """The first model (a VAE-GAN card) blended with the second (a VAE-GAN or trajectory card's last snapshot);
    shapes and swap layers checked from the cards first, naming the first layer that differs."""
    check_blendable(path_a, path_b, tuple(swap))
    tensors, card = load_checkpoint(path_a, "cpu")
    if card.get("kind") != "vaegan":
        raise BlendError(f"{path_a}: the first model of a blend must be a VAE-GAN (it is a {card.get('kind')!r})")
    base = load_vaegan(tensors, card, str(path_a), device, precision)
    other = generator_state(path_b)
    model = BlendModel(base, other, (base.info.name, read_card(path_b).get("name", Path(path_b).stem)), tuple(swap),
                       defaults)
    return model

