"""A model with bends: forward hooks on its generators' layers, their parameters set live (`bend.<name>.<param>`).

The wrapper owns its inner model (the hooks go on the inner model's modules), answers `net_params()` and
`set_net_params()` (the live network parameters of perform.nets.generative), passes any other live
parameter (blend, trajectory) on to the inner model, and reads everything else through to it. Nothing is
rebuilt when a value changes: a hook reads the values at each forward pass, and skips a bend at identity,
so a bend at identity leaves the image bit-identical to no bend.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import torch

from perform.errors import PerformError
from perform.nets.bending import ops
from perform.nets.bending.clusters import card_clusters
from perform.nets.bending.layers import generators_of, layer_channels, layer_modules, layer_names
from perform.nets.bending.table import TARGET_HELP, TRANSFORMS, BendSpec, is_identity, parse_target


class BendError(PerformError):
    """A bend that cannot be built on this model; the message names the bend and the valid choices."""


@dataclass(frozen=True)
class _Bend:
    spec: BendSpec
    kind: str                                    # spatial | channel
    channels: dict[str, torch.Tensor | None]     # per generator: the channel indices it changes (None: all)


def bend_problem(spec: BendSpec, model: Any) -> str | None:
    """Why `spec` cannot bend `model` (naming the valid choices), or None."""
    if spec.transform not in TRANSFORMS:
        return f"bend {spec.name!r}: unknown transform {spec.transform!r}; expected one of {', '.join(TRANSFORMS)}"
    t = TRANSFORMS[spec.transform]
    for p, _ in spec.params:
        if p not in t.params:
            return f"bend {spec.name!r}: {spec.transform} has no parameter {p!r}; expected one of {', '.join(t.params)}"
    try:
        gens = generators_of(model)
    except PerformError as e:
        return f"bend {spec.name!r}: {e}"
    cfg = next(iter(gens.values())).cfg
    if spec.layer not in layer_names(cfg):
        return f"bend {spec.name!r}: unknown layer {spec.layer!r}; this model's layers are {', '.join(layer_names(cfg))}"
    target = parse_target(spec.target)
    if target is None:
        return f"bend {spec.name!r}: unknown target {spec.target!r}; expected {TARGET_HELP}"
    if target[0] == "cluster":
        try:
            clusters = card_clusters(model.info.card, cfg)
        except PerformError as e:
            return f"bend {spec.name!r}: {e}"
        for key in gens:
            labels = clusters.get(key, {}).get(spec.layer)
            if labels is None:
                return (f"bend {spec.name!r}: the model card has no feature clusters for layer {spec.layer!r} "
                        f"(run `perform clusters {model.info.name}`)")
            k = int(labels.max()) + 1
            if target[1] >= k:
                return f"bend {spec.name!r}: unknown cluster {target[1]} on layer {spec.layer!r}; its clusters are 0..{k - 1}"
    return None


def _channels(spec: BendSpec, model: Any, key: str, n: int, device: torch.device) -> torch.Tensor | None:
    kind, arg = parse_target(spec.target)
    if kind == "all":
        return None
    if kind == "random":
        pick = np.sort(np.random.default_rng(spec.seed).permutation(n)[:max(1, round(arg * n))])
    else:
        gen_cfg = generators_of(model)[key].cfg
        pick = np.flatnonzero(card_clusters(model.info.card, gen_cfg)[key][spec.layer] == arg)
    return torch.as_tensor(pick, dtype=torch.long, device=device)


class BentModel:
    """`inner` with `specs` bent into its generators (see the module docstring)."""

    def __init__(self, inner: Any, specs: Iterable[BendSpec]) -> None:
        self.inner = inner
        self.bend_specs = tuple(specs)
        names = [s.name for s in self.bend_specs]
        if len(set(names)) != len(names):
            raise BendError(f"bend names must be unique on one model: {sorted(n for n in set(names) if names.count(n) > 1)}")
        problems = [p for p in (bend_problem(s, inner) for s in self.bend_specs) if p]
        if problems:
            raise BendError("; ".join(problems))
        gens = generators_of(inner)
        self._bends: list[_Bend] = []
        for s in self.bend_specs:
            chans = {}
            for key, gen in gens.items():
                n = layer_channels(gen.cfg)[s.layer]
                chans[key] = _channels(s, inner, key, n, next(gen.parameters()).device)
            self._bends.append(_Bend(s, TRANSFORMS[s.transform].kind, chans))
        self._ranges = {f"bend.{s.name}.{p}": (q.low, q.high, q.identity)
                        for s in self.bend_specs for p, q in TRANSFORMS[s.transform].params.items()}
        self._values: list[dict[str, float]] = [self._bend_values(i, {}) for i in range(len(self._bends))]
        self._noise = ops.NoiseFields()
        self._masks: dict[tuple, torch.Tensor] = {}
        self._hooks = []
        for key, gen in gens.items():
            modules = layer_modules(gen)
            for layer in dict.fromkeys(s.layer for s in self.bend_specs):
                ids = tuple(i for i, s in enumerate(self.bend_specs) if s.layer == layer)  # in setlist order
                self._hooks.append(modules[layer].register_forward_hook(functools.partial(self._hook, key, ids)))
        inner_spec = getattr(inner, "spec", None)
        if inner_spec is not None:  # how the inference child rebuilds it (perform.engine.inference_child)
            self.spec = ("bent", inner_spec, tuple(s.as_tuple() for s in self.bend_specs))

    def __getattr__(self, name: str) -> Any:  # everything a model is (info, generate, ...) is the inner model's
        return getattr(self.inner, name)

    # ---- live parameters ----
    def net_params(self) -> dict[str, tuple[float, float, float]]:
        inner = getattr(self.inner, "net_params", None)
        return {**(inner() if inner is not None else {}), **self._ranges}

    def set_net_params(self, values: Mapping[str, float]) -> None:
        """Unknown names are ignored, missing ones take their identity, non-finite ones never reach the net."""
        self._values = [self._bend_values(i, values) for i in range(len(self._bends))]
        inner = getattr(self.inner, "set_net_params", None)
        if inner is not None:
            inner(values)

    def _bend_values(self, i: int, values: Mapping[str, float]) -> dict[str, float]:
        s = self.bend_specs[i]
        out = {}
        for p, q in TRANSFORMS[s.transform].params.items():
            v = values.get(f"bend.{s.name}.{p}")
            v = q.identity if v is None or not math.isfinite(v) else float(v)
            out[p] = min(max(v, q.low), q.high)
        return out

    def release(self) -> None:
        """Take the hooks out (the inner model is as it was)."""
        for h in self._hooks:
            h.remove()
        self._hooks = []

    # ---- the hook ----
    def _hook(self, key: str, ids: tuple[int, ...], _module, _inputs, out: torch.Tensor) -> torch.Tensor | None:
        x, changed = out, False
        values = self._values  # one list per forward: set_net_params swaps it whole
        for i in ids:
            b, v = self._bends[i], values[i]
            if is_identity(b.spec.transform, v):
                continue  # skipped, not computed: identity must be bit-identical
            idx = b.channels[key]
            if b.spec.transform == "ablate" and idx is not None:  # a per-channel factor: no gather, no scatter
                x, changed = x * self._ablate_factor(i, key, x, v["amount"]), True
                continue
            sel = x if idx is None else x.index_select(1, idx)  # (B, k, H, W)
            if b.kind == "spatial":
                y = ops.spatial(sel, b.spec.transform, v)
            else:
                y = ops.channel(sel, b.spec.transform, v, b.spec.seed, self._noise)
            x = y if idx is None else x.index_copy(1, idx, y.to(x.dtype))
            changed = True
        return x if changed else None

    def _ablate_factor(self, i: int, key: str, x: torch.Tensor, amount: float) -> torch.Tensor:
        """(1, C, 1, 1): 1 - amount on the bend's channels, 1 elsewhere (the mask is made once)."""
        cache_key = (i, key, x.shape[1], x.device, x.dtype)
        mask = self._masks.get(cache_key)
        if mask is None:
            mask = torch.zeros(1, x.shape[1], 1, 1, device=x.device, dtype=x.dtype)
            mask[:, self._bends[i].channels[key]] = 1.0
            self._masks[cache_key] = mask
        return 1.0 - amount * mask


def bend_model(model: Any, specs: Iterable[BendSpec]) -> Any:
    """`model` with `specs` bent in, or `model` itself when there are none."""
    specs = tuple(specs)
    return BentModel(model, specs) if specs else model


def bend_specs_from(plain: Iterable[tuple]) -> tuple[BendSpec, ...]:
    """Inverse of BendSpec.as_tuple (the inference child's side)."""
    return tuple(BendSpec(n, layer, t, target, seed, tuple(tuple(p) for p in params))
                 for n, layer, t, target, seed, params in plain)
