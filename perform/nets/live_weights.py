"""A live network's weights written from stored weight sets, in place: weight blending and trajectory playback.

The stored sets sit on the device in the live network's dtype and memory format, so moving between them
is a copy or a `torch.lerp(..., out=)` per tensor: no allocation, no transfer, no disk read per frame.
The ends are copies, so weight 0 and 1 give each stored set's images bit for bit.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

StateDict = Mapping[str, torch.Tensor]


class LiveWeights:
    """The tensors of `module` (parameters and buffers), set from `sources` (state dicts with its keys).

    Owned by one model and used under its lock. Keys are kept in the module's order (input to output)."""

    def __init__(self, module: torch.nn.Module, sources: Sequence[StateDict]) -> None:
        live = module.state_dict(keep_vars=True)
        self.keys: tuple[str, ...] = tuple(live)
        self._live = {k: v.data if isinstance(v, torch.nn.Parameter) else v for k, v in live.items()}
        with torch.no_grad():
            # empty_like keeps the live tensor's dtype, device and strides (channels_last stays channels_last)
            self._src = [{k: torch.empty_like(self._live[k]).copy_(s[k]) for k in self.keys} for s in sources]
        self._applied: dict[str, tuple[int, int, float]] = {}  # key -> (i, j, w) it holds now

    @property
    def n_sources(self) -> int:
        return len(self._src)

    def source(self, i: int) -> dict[str, torch.Tensor]:
        return self._src[i]

    @torch.no_grad()
    def set(self, key: str, i: int, j: int, w: float) -> bool:
        """Make `key` hold (1 - w) * source i + w * source j; a copy at w = 0 or 1. False if it already did."""
        w = min(max(float(w), 0.0), 1.0)
        if w == 0.0 or i == j:
            j, w = i, 0.0
        elif w == 1.0:
            i, w = j, 0.0
        state = (i, j, w)
        if self._applied.get(key) == state:
            return False
        out = self._live[key]
        if w == 0.0:
            out.copy_(self._src[i][key])
        elif out.is_floating_point():
            torch.lerp(self._src[i][key], self._src[j][key], w, out=out)
        else:  # integer buffers (BatchNorm's step counter): the nearer set's
            out.copy_(self._src[i if w < 0.5 else j][key])
        self._applied[key] = state
        return True

    def set_all(self, i: int, j: int, w: float) -> int:
        """Every key at the same weight; returns how many tensors were written."""
        return sum(self.set(k, i, j, w) for k in self.keys)


class OnLiveGenerator:
    """What a model written in place over a base VAE-GAN (a blend, a trajectory) shares: the base answers for
    shape, directions, encoder and generators (bends stay on its live generator); `params` (a NetParams) for
    the live parameters. Subclasses set `base` and `params` and write the weights before `base.generate`."""

    base: Any
    params: Any

    @property
    def output_shape(self) -> tuple[int, int]:
        return self.base.output_shape

    @property
    def directions(self) -> dict[str, np.ndarray]:
        return self.base.directions

    @property
    def net(self):
        return self.base.net

    def encode(self, crop: np.ndarray) -> np.ndarray:
        return self.base.encode(crop)

    def generators(self) -> dict[str, torch.nn.Module]:
        """The live generator (written in place), for network bending: bends stay on it."""
        return self.base.generators()

    def net_params(self) -> dict[str, tuple[float, float, float]]:
        return self.params.table()

    def set_net_params(self, values: Mapping[str, float]) -> None:
        """Unknown names ignored, missing ones back to their default, non-finite ones keep the last value."""
        self.params.set(values)
