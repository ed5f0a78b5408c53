"""A model as a setlist scene declares it: a card, perhaps blended with a second one (layers swapped), with
its live network parameters' starting values; rebuilt from the same spec in the inference process."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch

from perform.nets.blend import build_blend
from perform.nets.device import pick_device
from perform.nets.generative import GenerativeModel
from perform.nets.model import load_model


def declared_model(path: str | Path, device: str | torch.device | None, precision: str = "fp32",
                   blend_with: str | Path | None = None, swap: tuple[str, ...] = (),
                   defaults: Mapping[str, float] | None = None) -> GenerativeModel:
    """`path`'s model; blended with `blend_with` when given; `defaults` become its net parameters' defaults
    (names it does not have are ignored, as set_net_params ignores them)."""
    dev = device if isinstance(device, torch.device) else pick_device(device)
    defaults = dict(defaults or {})
    if blend_with is not None:
        model = build_blend(path, blend_with, dev, precision, tuple(swap), defaults)
    else:
        model = load_model(path, dev, precision)
        params = getattr(model, "params", None)
        if params is not None and defaults:
            params.declare(defaults)
    model.spec = declared_spec(path, precision, blend_with, swap, defaults)
    return model


def declared_spec(path: str | Path, precision: str, blend_with: str | Path | None, swap: tuple[str, ...],
                  defaults: Mapping[str, float]) -> tuple:
    """('declared', path, precision, second path or None, swap layers, sorted defaults): plain, picklable."""
    return ("declared", str(path), precision, None if blend_with is None else str(blend_with), tuple(swap),
            tuple(sorted(defaults.items())))


def model_from_spec(spec: tuple, device: str | torch.device | None) -> GenerativeModel:
    _, path, precision, blend_with, swap, defaults = spec
    return declared_model(path, device, precision, blend_with, tuple(swap), dict(defaults))
