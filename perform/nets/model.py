"""Loading any kind of model from a checkpoint: the generator stage's way in to perform.nets.

Every kind (VAE-GAN, data-free pair, ...) is a `GenerativeModel` (perform.nets.generative): latent
(+ optional face crop and mix) in, uint8 image out. The kinds are listed in perform.nets.kinds.
"""

from __future__ import annotations

import logging
import os

import torch

from perform.nets.checkpoint import CheckpointError, load_checkpoint, read_card
from perform.nets.device import pick_device
from perform.nets.generative import GenerativeModel
from perform.nets.kinds import MODEL_KINDS
from perform.nets.precision import precision_dtype
from perform.nets.vaegan_model import random_vaegan

# the engine and the tools import the protocol and the untrained stand-in from here, beside load_model
__all__ = ["GenerativeModel", "load_model", "random_vaegan"]

log = logging.getLogger(__name__)


def load_model(path: str | os.PathLike, device: str | torch.device | None = None, precision: str = "fp32") -> GenerativeModel:
    """Load any model kind from `path` (.safetensors, .json or the stem), to run in `precision` (fp32, bf16,
    fp16; a PrecisionError naming --precision where the device cannot, before any weights are read)."""
    dev = device if isinstance(device, torch.device) else pick_device(device)
    precision_dtype(precision, dev)
    card = read_card(path)
    kind = card.get("kind")
    if kind not in MODEL_KINDS:
        raise CheckpointError(f"{path}: model kind {kind!r} unknown; known kinds: {sorted(MODEL_KINDS)}")
    tensors, card = load_checkpoint(path, device="cpu")
    model = MODEL_KINDS[kind](tensors, card, str(path), dev, precision)
    model.spec = ("path", str(path), precision)  # how another process rebuilds it (perform.engine.inference_process)
    if model.info.untrained:
        log.warning("model %s is UNTRAINED (random weights)", model.info.name)
    return model
