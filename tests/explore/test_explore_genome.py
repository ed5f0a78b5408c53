"""Genomes and breeding: identities that must hold exactly, the model's distribution kept, net parameters in range."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

from perform.explore.genome import (DIRECTION_SPAN, Genome, GenomeSpace, crossover, mutate, random_genome, same,
                                    space_of)
from perform.explore.images import GenomePainter


def _space(z: int = 8, net: dict | None = None) -> GenomeSpace:
    rng = np.random.default_rng(5)
    dirs = {"a": np.eye(z, dtype=np.float32)[0], "b": np.eye(z, dtype=np.float32)[1]}
    return GenomeSpace(rng.normal(0, 1, z).astype(np.float32), rng.uniform(0.5, 2, z).astype(np.float32),
                       types.MappingProxyType(dirs), types.MappingProxyType(net or {}))


def test_strength_zero_from_one_parent_gives_that_parent_back_exactly():
    space = _space()
    g = mutate(random_genome(space, np.random.default_rng(1)), 0.7, space, np.random.default_rng(2))
    child = mutate(g, 0.0, space, np.random.default_rng(3))
    assert same(child, g)
    assert child.latent.tobytes() == g.latent.tobytes()
    assert not same(mutate(g, 1e-3, space, np.random.default_rng(3)), g)  # any strength at all moves it


def test_crossover_of_a_genome_with_itself_is_itself():
    space = _space()
    g = mutate(random_genome(space, np.random.default_rng(1)), 1.0, space, np.random.default_rng(2))
    twin = Genome(g.latent.copy(), dict(g.directions), dict(g.net))  # equal, not the same object
    for seed in range(5):
        assert same(crossover(g, twin, space, np.random.default_rng(seed)), g)


def test_crossover_blends_latents_and_takes_each_direction_from_one_parent():
    space = _space()
    rng = np.random.default_rng(0)
    a, b = (mutate(random_genome(space, rng), 1.0, space, rng) for _ in range(2))
    c = crossover(a, b, space, np.random.default_rng(7))
    ua, ub, uc = ((g.latent - space.mean) / space.std for g in (a, b, c))
    # on the great circle between the parents (standardised space), strictly between them
    basis = np.linalg.lstsq(np.stack([ua, ub], 1), uc, rcond=None)
    assert np.allclose(np.stack([ua, ub], 1) @ basis[0], uc, atol=1e-4) and (basis[0] > 0.1).all()
    for name in space.directions:
        assert c.directions[name] in (a.directions[name], b.directions[name])


def test_mutation_keeps_children_in_the_models_latent_distribution_at_any_strength():
    space = _space(z=64)
    rng = np.random.default_rng(0)
    parents = [random_genome(space, rng) for _ in range(200)]
    for strength in (0.3, 1.0, 3.0):
        kids = [mutate(p, strength, space, rng) for p in parents]
        u = np.stack([(k.latent - space.mean) / space.std for k in kids])  # (200, 64)
        assert abs(float(u.mean())) < 0.05 and 0.9 < float(u.var()) < 1.1, strength
    # and the distance moved grows with the strength
    d = [np.mean([np.linalg.norm(mutate(p, s, space, np.random.default_rng(i)).latent - p.latent)
                  for i, p in enumerate(parents[:20])]) for s in (0.1, 0.5, 2.0)]
    assert d[0] < d[1] < d[2]


def test_direction_offsets_move_the_drawn_latent_along_the_cards_unit_directions():
    space = _space()
    g = Genome(np.zeros(8, np.float32), {"a": 1.5, "b": -0.5})
    z = space.express(g)
    assert np.allclose(z[:2], [1.5, -0.5]) and not z[2:].any()
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = mutate(g, 4.0, space, rng)
    assert all(abs(v) <= DIRECTION_SPAN for v in g.directions.values())


def test_net_parameters_are_carried_mutated_within_range_and_reach_the_model():
    class Bendable:
        """A model that declares live network parameters (the contract in docs/explore.md)."""

        latent_dim = 8
        directions: dict = {}
        info = types.SimpleNamespace(card={})

        def __init__(self):
            self.seen: list[dict] = []

        def net_params(self):
            return {"bend.warp.amount": (0.0, 2.0, 0.5), "blend.swap": (0.0, 1.0, 0.0), "bad": (1.0, 1.0, 1.0)}

        def set_net_params(self, values):
            self.seen.append(dict(values))

        def generate(self, latent, crop=None, mix=0.0):
            return np.zeros((4, 4, 3), np.uint8)

    model = Bendable()
    space = space_of(model)
    assert set(space.net_params) == {"bend.warp.amount", "blend.swap"}  # a range with no width is left out
    g = random_genome(space, np.random.default_rng(0))
    assert dict(g.net) == {"bend.warp.amount": 0.5, "blend.swap": 0.0}
    rng = np.random.default_rng(1)
    values = []
    for _ in range(100):
        g = mutate(g, 2.0, space, rng)
        values.append(g.net["bend.warp.amount"])
        assert 0.0 <= g.net["blend.swap"] <= 1.0
    assert min(values) >= 0.0 and max(values) <= 2.0 and len(set(values)) > 10
    GenomePainter(model, space).paint([g])
    assert model.seen == [dict(g.net)]
    # a model without the method: empty dicts, nothing called
    plain = types.SimpleNamespace(latent_dim=8, directions={}, info=types.SimpleNamespace(card={}))
    assert dict(random_genome(space_of(plain), np.random.default_rng(0)).net) == {}


def test_genomes_read_back_from_json_bit_for_bit_and_bad_ones_are_refused():
    space = _space()
    g = mutate(random_genome(space, np.random.default_rng(3)), 0.9, space, np.random.default_rng(4))
    back = Genome.from_json(json.loads(json.dumps(g.to_json())), 8)
    assert same(back, g)
    with pytest.raises(ValueError, match="expected \\(8,\\)"):
        Genome.from_json({"latent": [0.0] * 7}, 8)
    with pytest.raises(ValueError, match="directions"):
        Genome.from_json({"latent": [0.0] * 8, "directions": {"a": math.nan}}, 8)


def test_the_space_uses_the_cards_latent_stats(tiny):
    model, space, _, _ = tiny
    stats = model.info.card["latent_stats"]
    assert np.allclose(space.mean, stats["mean"]) and np.allclose(space.std, stats["std"])
    assert sorted(space.directions) == ["mouth_open", "tilt"]
