"""Genomes drawn by the model: the one place explore runs the network, with a small cache (a parent carried
into the next grid is not drawn again)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from perform.explore.genome import Genome, GenomeSpace


class GenomePainter:
    """`paint(genomes)` -> one (H, W, 3) uint8 image each, from `model` (a GenerativeModel)."""

    def __init__(self, model: Any, space: GenomeSpace, cache_size: int = 256) -> None:
        self.model = model
        self.space = space
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._cache_size = int(cache_size)
        self.generated = 0

    def paint_one(self, g: Genome) -> np.ndarray:
        key = (g.latent.tobytes(), tuple(sorted(g.directions.items())), tuple(sorted(g.net.items())))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        setter = getattr(self.model, "set_net_params", None)
        if callable(setter) and self.space.net_params:
            setter(dict(g.net))  # the extension point: a model's live network parameters (docs/explore.md)
        img = np.asarray(self.model.generate(self.space.express(g)), np.uint8)
        self.generated += 1
        self._cache[key] = img
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return img

    def paint(self, genomes: Sequence[Genome]) -> list[np.ndarray]:
        return [self.paint_one(g) for g in genomes]
