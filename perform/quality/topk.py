"""Diverse top-k: the best candidates by score, each at least a minimum distance from every one kept.

Greedy, in score order (a threshold form of greedy max-min selection): walk the candidates from the best
down; keep one if its distance to every candidate already kept is at least `min_distance`; stop at k.
So the first pick is always the best candidate, every pick is the best of those far enough from the
picks before it, and every pair of picks is at least `min_distance` apart. Fewer than k come back when
the pool runs out of candidates far enough from the rest (lower the threshold or sample more).
"""

from __future__ import annotations

import numpy as np
import torch


class DiverseSelector:
    """Offered candidates best first (`offer`), keeps those far enough from the ones it kept."""

    def __init__(self, k: int, min_distance: float) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.min_distance = float(min_distance)
        self.chosen: list[int] = []
        self.skipped = 0          # candidates refused as too close to a pick
        self._features: list[torch.Tensor] = []

    @property
    def full(self) -> bool:
        return len(self.chosen) >= self.k

    def offer(self, index: int, feature: torch.Tensor) -> bool:
        """Keep candidate `index` (its feature vector (D,)) if it is at least min_distance from every pick."""
        if self.full:
            return False
        f = feature.detach().double().flatten().cpu()
        if self._features:
            d = torch.cdist(f[None], torch.stack(self._features))[0]   # (picks,)
            if bool((d < self.min_distance).any()):
                self.skipped += 1
                return False
        self.chosen.append(int(index))
        self._features.append(f)
        return True


def rank(scores: np.ndarray) -> np.ndarray:
    """Indices from the highest score down; ties keep index order (stable), so a ranking is reproducible."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def diverse_top_k(scores: np.ndarray, features: np.ndarray | torch.Tensor, k: int, min_distance: float) -> list[int]:
    """Indices of up to k candidates, best score first, every pair at least min_distance apart in
    `features` (N, D) (Euclidean)."""
    feats = torch.as_tensor(np.asarray(features) if isinstance(features, np.ndarray) else features)
    sel = DiverseSelector(k, min_distance)
    for i in rank(scores):
        sel.offer(int(i), feats[i])
        if sel.full:
            break
    return sel.chosen
