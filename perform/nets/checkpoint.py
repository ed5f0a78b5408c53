"""Checkpoints: a safetensors file of weights plus a JSON model card beside it (same stem).

No pickle is ever loaded: a model file from a stranger must not run code. Loading checks the card
against the weights (the card must list every tensor) and that every weight is finite, and names the file
and the tensor on any problem.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from perform.errors import PerformError

CARD_FORMAT = "perform-model-card"
CARD_VERSION = 1


class CheckpointError(PerformError):
    """A model file or card that cannot be used; the message names the file and what is wrong."""


def paths_for(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, card) for a path given as either file, or as the stem."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def save_checkpoint(path: str | os.PathLike, tensors: dict[str, torch.Tensor], card: dict[str, Any]) -> Path:
    """Write weights and card atomically (a crash mid-write never leaves a half file under the real name)."""
    weights, card_path = paths_for(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    card = {"format": CARD_FORMAT, "format_version": CARD_VERSION, **card}
    card["tensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")} for k, v in tensors.items()}
    tmp_w = weights.with_name(weights.name + ".tmp")
    tmp_c = card_path.with_name(card_path.name + ".tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp_w))
    tmp_c.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    # safetensors writes through a private temporary file (mode 0600): give the weights the card's mode, the
    # one the user's umask makes, so a model can be shared like any file beside it
    shutil.copymode(tmp_c, tmp_w)
    os.replace(tmp_w, weights)
    os.replace(tmp_c, card_path)
    return weights


def update_card(path: str | os.PathLike, changes: dict[str, Any]) -> Path:
    """Set top-level keys of a model card, written atomically; the weights and the card's tensor list are not
    touched (what is added is about the model, not a new model). Refuses keys that describe the weights."""
    fixed = {"format", "format_version", "kind", "config", "tensors"}
    if fixed & set(changes):
        raise CheckpointError(f"{path}: card keys {sorted(fixed & set(changes))} describe the weights and are not updated")
    card = read_card(path)
    card.update(changes)
    _, card_path = paths_for(path)
    tmp = card_path.with_name(card_path.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, card_path)
    read_card(card_path)
    return card_path


def _sniff(weights: Path) -> None:
    """Refuse anything that is not a safetensors file before handing it to a parser."""
    with open(weights, "rb") as f:
        head = f.read(16)
    # a safetensors file starts with its header length (any first byte, 0x80 included) then '{'
    looks_safetensors = head[8:9] == b"{"
    if not looks_safetensors and (head[:1] == b"\x80" or head[:2] == b"PK" or head.startswith(b"\x1f\x8b")):
        raise CheckpointError(f"{weights}: looks like a pickle/zip (torch.save) file; only safetensors weights are loaded, never pickle")
    if len(head) < 9:
        raise CheckpointError(f"{weights}: file too short to be safetensors ({len(head)} bytes)")
    n = struct.unpack("<Q", head[:8])[0]
    if head[8:9] != b"{" or n > 100_000_000:
        raise CheckpointError(f"{weights}: not a safetensors file (bad header)")


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The model card alone, validated for format and version."""
    _, card_path = paths_for(path)
    if not card_path.exists():
        raise CheckpointError(f"{card_path}: model card missing (expected beside the weights)")
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{card_path}: model card is not valid JSON: line {e.lineno}: {e.msg}") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CheckpointError(f"{card_path}: not a perform model card (key 'format' should be {CARD_FORMAT!r})")
    v = card.get("format_version")
    if not isinstance(v, int) or v > CARD_VERSION:
        raise CheckpointError(f"{card_path}: format_version {v!r} is newer than this perform understands ({CARD_VERSION}); upgrade perform")
    for key in ("kind", "config"):
        if key not in card:
            raise CheckpointError(f"{card_path}: model card has no key {key!r}")
    return card


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, card), with the card's tensor list checked against the file."""
    weights, card_path = paths_for(path)
    if not weights.exists():
        raise CheckpointError(f"{weights}: model weights not found")
    card = read_card(path)
    _sniff(weights)
    try:
        tensors = load_file(str(weights), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: cannot read safetensors: {e}") from None
    listed = card.get("tensors")
    if not isinstance(listed, dict) or not listed:
        raise CheckpointError(f"{card_path}: model card has no 'tensors' list (each tensor's shape), so the weights "
                              "cannot be checked; re-export the model with `perform train --export`")
    try:
        expected = {k: tuple(v["shape"]) for k, v in listed.items()}
    except (TypeError, KeyError):
        raise CheckpointError(f"{card_path}: model card 'tensors' entries need a 'shape' list") from None
    check_tensors(tensors, expected, f"{weights} vs its card {card_path.name}")
    check_finite(tensors, str(weights))
    return tensors, card


def check_finite(tensors: dict[str, torch.Tensor], where: str) -> None:
    """Raise naming the first tensor holding NaN or infinity: such weights render black, silently."""
    for k, t in tensors.items():
        if t.is_floating_point():
            bad = int((~torch.isfinite(t)).sum())
            if bad:
                raise CheckpointError(f"{where}: tensor {k!r} holds {bad} NaN/infinite value(s) of {t.numel()}; "
                                      "the model is broken (a diverged training run?): export it again or retrain")


def check_tensors(tensors: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], where: str) -> None:
    """Raise naming the first missing, unexpected or wrongly shaped key."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing:
        raise CheckpointError(f"{where}: missing key {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    if extra:
        raise CheckpointError(f"{where}: unexpected key {extra[0]!r}" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
    for k, shape in expected.items():
        if tuple(tensors[k].shape) != tuple(shape):
            raise CheckpointError(f"{where}: key {k!r} has shape {tuple(tensors[k].shape)}, expected {tuple(shape)}")


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str, prefix: str = "") -> None:
    """Load `prefix`-ed tensors into module after checking keys and shapes against its state_dict."""
    own = module.state_dict()
    sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    check_tensors(sub, {k: tuple(v.shape) for k, v in own.items()}, where if not prefix else f"{where} [{prefix}*]")
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in sub.items()})


@dataclass
class ModelInfo:
    """What the HUD and the log say about a loaded model."""

    name: str
    kind: str
    untrained: bool
    card: dict[str, Any] = field(default_factory=dict)
