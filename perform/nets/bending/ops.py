"""The bend transforms on feature maps (B, C, H, W): pure functions of the maps, the values and a seed.

Nothing here draws from a global random state: the noise field is a function of (seed, step), so a
rehearsal renders the same frames every time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Mapping

import torch
import torch.nn.functional as F

# (cos, sin) at the right angles, exact: rotating by 180 twice must give back the maps bit for bit
_RIGHT_ANGLES = {0: (1.0, 0.0), 90: (0.0, 1.0), 180: (-1.0, 0.0), 270: (0.0, -1.0)}


def affine(transform: str, v: Mapping[str, float]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The sampling matrix (output coordinates -> input coordinates, both in -1..1) of a spatial bend."""
    if transform == "rotate":
        a = float(v["angle"]) % 360.0
        c, s = _RIGHT_ANGLES.get(int(a)) if a == int(a) and int(a) in _RIGHT_ANGLES else (math.cos(math.radians(a)), math.sin(math.radians(a)))
        return ((c, s, 0.0), (-s, c, 0.0))  # the inverse rotation: where each output point comes from
    if transform == "scale":
        return ((1.0 / v["x"], 0.0, 0.0), (0.0, 1.0 / v["y"], 0.0))
    if transform == "translate":
        return ((1.0, 0.0, -2.0 * v["x"]), (0.0, 1.0, -2.0 * v["y"]))
    if transform == "flip":
        return ((1.0 - 2.0 * v["x"], 0.0, 0.0), (0.0, 1.0 - 2.0 * v["y"], 0.0))
    if transform == "zoom":
        f, cx, cy = v["factor"], v["cx"], v["cy"]
        return ((1.0 / f, 0.0, cx - cx / f), (0.0, 1.0 / f, cy - cy / f))
    raise ValueError(f"not a spatial transform: {transform!r}")


def _signed_permutation(x: torch.Tensor, m) -> torch.Tensor | None:
    """The exact result of a sampling matrix that only swaps and mirrors axes (no resampling), else None."""
    (a, b, tx), (c, d, ty) = m
    if tx or ty or any(e not in (-1.0, 0.0, 1.0) for e in (a, b, c, d)):
        return None
    if b == 0.0 and c == 0.0 and a != 0.0 and d != 0.0:
        dims = [n for n, e in ((-1, a), (-2, d)) if e < 0]
        return x.flip(dims) if dims else x
    if a == 0.0 and d == 0.0 and b != 0.0 and c != 0.0 and x.shape[-1] == x.shape[-2]:
        t = x.transpose(-1, -2)  # out[y, x] = in[c*x, b*y] (normalised coordinates)
        dims = [n for n, e in ((-2, b), (-1, c)) if e < 0]
        return t.flip(dims) if dims else t
    return None


def spatial(x: torch.Tensor, transform: str, v: Mapping[str, float]) -> torch.Tensor:
    """Move the maps (B, C, H, W) by one affine resampling; outside the map is zero."""
    m = affine(transform, v)
    exact = _signed_permutation(x, m)
    if exact is not None:
        return exact
    theta = torch.tensor(m, dtype=torch.float32, device=x.device).unsqueeze(0).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False).to(x.dtype)


class NoiseFields:
    """Seeded noise fields (1, C, H, W), a few cached: field k of seed s is the same on every call."""

    def __init__(self, size: int = 8) -> None:
        self._cache: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._size = size

    def field(self, seed: int, k: int, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        key = (seed, k, shape, like.device, like.dtype)
        hit = self._cache.get(key)
        if hit is None:
            g = torch.Generator(device="cpu").manual_seed((seed * 1_000_003 + k) % (2 ** 63))
            hit = torch.randn((1, *shape[1:]), generator=g).to(like.device, like.dtype)
            self._cache[key] = hit
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit

    def at(self, seed: int, step: float, like: torch.Tensor) -> torch.Tensor:
        """The field at a fractional step: neighbouring fields blended, so a moving step flows."""
        k = int(math.floor(step))
        f = step - k
        a = self.field(seed, k, tuple(like.shape), like)
        return a if f == 0.0 else torch.lerp(a, self.field(seed, k + 1, tuple(like.shape), like), f)


def channel(x: torch.Tensor, transform: str, v: Mapping[str, float], seed: int, noise: NoiseFields) -> torch.Tensor:
    """Change the values of the maps (B, C, H, W), each channel on its own (noise: the layer's spread)."""
    if transform == "ablate":
        return x * (1.0 - v["amount"])
    if transform == "noise":  # in the maps' own units (after BatchNorm they are about unit size): no reduction,
        return x + v["amount"] * noise.at(seed, float(v["step"]), x)  # so any thread count gives the same bits
    if transform in ("erode", "dilate"):
        r = int(round(v["radius"]))
        if r <= 0:
            return x
        k = 2 * r + 1
        if transform == "dilate":
            return F.max_pool2d(x, k, stride=1, padding=r)
        return -F.max_pool2d(-x, k, stride=1, padding=r)
    top = x.amax(dim=(-2, -1), keepdim=True)  # (B, C, 1, 1) each map's maximum (exact in any order)
    if transform == "invert":
        return torch.lerp(x, top - x, v["amount"])
    if transform == "threshold":
        return torch.where(x >= v["level"] * top, x, torch.zeros_like(x))
    if transform == "binarise":  # a sum in float64: its order (threads) does not change the float32 mean
        mean = x.double().mean(dim=(-2, -1), keepdim=True).to(x.dtype)
        return torch.lerp(x, torch.where(x > mean, top, torch.zeros_like(x)), v["amount"])
    if transform == "sine-fold":
        return torch.lerp(x, torch.sin(v["frequency"] * x), v["amount"])
    raise ValueError(f"not a channel transform: {transform!r}")
