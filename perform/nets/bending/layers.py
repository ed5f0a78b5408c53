"""The bendable layers of a generator, by stable human names: `res<N>` is the feature map at N x N pixels.

`res4` is the first map (after the dense layer's BatchNorm, before its ReLU); each `res<N>` after it is the
output of the upsampling block that makes N x N maps (after its ReLU). The RGB layer is not bendable: a
transform there is an image effect, which the shaders already do better.
"""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from perform.errors import PerformError
from perform.nets.vaegan import Generator, VAEGANConfig


def layer_names(cfg: VAEGANConfig) -> tuple[str, ...]:
    return tuple(f"res{4 * 2 ** i}" for i in range(cfg.n_levels + 1))


def layer_channels(cfg: VAEGANConfig) -> dict[str, int]:
    return {f"res{4 * 2 ** i}": cfg.channels(4 * 2 ** i) for i in range(cfg.n_levels + 1)}


def layer_modules(gen: Generator) -> dict[str, nn.Module]:
    """{layer name: the module whose output is that layer's maps}: where a bend's forward hook goes."""
    out: dict[str, nn.Module] = {"res4": gen.fc_norm}
    for i in range(gen.cfg.n_levels):
        out[f"res{8 * 2 ** i}"] = gen.blocks[3 * i + 2]  # (ConvTranspose2d, BatchNorm2d, ReLU) per block
    return out


def describe_layers(cfg: VAEGANConfig) -> list[str]:
    """One line per layer, for `perform info MODEL` and `perform clusters`."""
    return [f"{name:<7} {int(name[3:])}x{int(name[3:])} maps, {c} channels" for name, c in layer_channels(cfg).items()]


def generators_of(model: Any) -> dict[str, Generator]:
    """{key: generator} of a model that can be bent ('generator' for a VAE-GAN, 'a' and 'b' for a pair)."""
    fn = getattr(model, "generators", None)
    if fn is None:
        raise PerformError(f"model {model.info.name} ({model.info.kind}) cannot be bent: it exposes no generators")
    return fn()
