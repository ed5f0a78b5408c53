"""Optimizer and RNG state as flat tensors + JSON structure, so training checkpoints are safetensors (no pickle)."""

from __future__ import annotations

from typing import Any

import torch

from perform.nets.checkpoint import CheckpointError


def flatten_optimizer(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors named `prefix.state.<param index>.<key>`, JSON-able structure: param_groups and scalar entries)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{idx}.{key}"] = value.detach().clone()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def unflatten_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], structure: dict[str, Any],
                        prefix: str, where: str) -> None:
    """Load what flatten_optimizer wrote back into `opt` (which must hold the same parameters)."""
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(head):
            idx, key = name[len(head):].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for idx, entries in (structure.get("scalars") or {}).items():
        state.setdefault(int(idx), {}).update(entries)
    groups = structure.get("param_groups")
    if not isinstance(groups, list) or len(groups) != len(opt.param_groups):
        raise CheckpointError(f"{where}: optimizer {prefix!r} has {len(opt.param_groups)} parameter groups, the checkpoint lists "
                              f"{len(groups) if isinstance(groups, list) else 'none'}")
    for g_saved, g_own in zip(groups, opt.param_groups):
        if len(g_saved.get("params", [])) != len(g_own["params"]):
            raise CheckpointError(f"{where}: optimizer {prefix!r} parameter count differs from the checkpoint")
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in groups]
    opt.load_state_dict({"state": state, "param_groups": groups})


def generator_state(gen: torch.Generator) -> torch.Tensor:
    """A torch.Generator's state as a uint8 tensor (CPU or CUDA generator alike)."""
    return gen.get_state().clone()


def set_generator_state(gen: torch.Generator, state: torch.Tensor) -> None:
    gen.set_state(state.to(torch.uint8).cpu())
