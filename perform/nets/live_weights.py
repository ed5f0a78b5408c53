"""A live network's weights written from stored weight sets, in place: weight blending and trajectory playback.

The stored sets sit on the device in the live network's dtype and memory format, so moving between them
is a copy or a `torch.lerp(..., out=)` per tensor: no allocation, no transfer, no disk read per frame.
The ends are copies, so weight 0 and 1 give each stored set's images bit for bit.
"""

from __future__ import annotations

from typing import Mapping, Sequence

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
