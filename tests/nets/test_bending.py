"""Network bending on real generators: identity is bit-identical, each transform changes what it should,
clusters are narrower than layers, noise is seeded, bad bends are refused naming the valid choices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from perform.nets.bending.bent import BendError, BentModel, bend_model
from perform.nets.bending.clusters import card_clusters, kmeans
from perform.nets.bending.table import TRANSFORMS, BendSpec
from perform.nets.model import load_model
from perform.nets.pair import random_pair
from perform.resources import REPO_ROOT

FACE = REPO_ROOT / "models" / "face-64.json"


@pytest.fixture(scope="module")
def face():
    return load_model(FACE, "cpu")


@pytest.fixture(scope="module")
def z():
    return np.random.default_rng(3).standard_normal(64).astype(np.float32)


def bent(specs, model_path=FACE):
    return BentModel(load_model(model_path, "cpu"), specs)


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of pixels whose value changed."""
    return float((a != b).any(axis=-1).mean())


def strong(transform: str) -> dict[str, float]:
    """Every parameter at the far end of its range from identity."""
    t = TRANSFORMS[transform]
    return {p: (q.high if q.identity != q.high else q.low) for p, q in t.params.items()}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_a_bend_at_identity_is_bit_identical_and_at_strength_changes_pixels(face, z, transform):
    ref = face.generate(z)
    m = bent([BendSpec("x", "res16", transform)])
    assert np.array_equal(m.generate(z), ref)  # nothing set: identity
    ident = {f"bend.x.{p}": q.identity for p, q in TRANSFORMS[transform].params.items()}
    m.set_net_params(ident)
    assert np.array_equal(m.generate(z), ref)
    m.set_net_params({f"bend.x.{p}": v for p, v in strong(transform).items()})
    assert changed(m.generate(z), ref) > 0.2, transform


def test_rotating_by_180_twice_is_the_identity_and_once_is_not(face, z):
    ref = face.generate(z)
    m = bent([BendSpec("r1", "res16", "rotate"), BendSpec("r2", "res16", "rotate")])
    m.set_net_params({"bend.r1.angle": 180.0, "bend.r2.angle": 180.0})
    assert np.array_equal(m.generate(z), ref)
    m.set_net_params({"bend.r1.angle": 180.0})
    assert changed(m.generate(z), ref) > 0.5
    m.set_net_params({"bend.r1.angle": 90.0, "bend.r2.angle": -90.0})  # exact right angles both ways
    assert np.array_equal(m.generate(z), ref)


def test_flip_of_the_last_layer_mirrors_the_image(face, z):
    # the last maps go through one (unsymmetric) 3x3 convolution: mirrored maps give a roughly mirrored image
    m = bent([BendSpec("f", "res64", "flip")])
    m.set_net_params({"bend.f.x": 1.0})
    ref = face.generate(z).astype(int)
    out = m.generate(z).astype(int)
    assert np.abs(out - ref[:, ::-1]).mean() < 0.5 * np.abs(out - ref).mean()


def test_ablating_one_cluster_changes_fewer_pixels_than_the_whole_layer(face, z):
    ref = face.generate(z).astype(int)
    whole = bent([BendSpec("off", "res16", "ablate")])
    whole.set_net_params({"bend.off.amount": 1.0})
    one = bent([BendSpec("off", "res16", "ablate", "cluster:3")])
    one.set_net_params({"bend.off.amount": 1.0})
    d_whole = np.abs(whole.generate(z).astype(int) - ref).mean()
    d_one = np.abs(one.generate(z).astype(int) - ref).mean()
    assert 0.0 < d_one < 0.7 * d_whole


def test_a_random_fraction_is_seeded_and_smaller_than_all(face, z):
    ref = face.generate(z).astype(int)

    def diff(target, seed):
        m = bent([BendSpec("n", "res8", "invert", target, seed)])
        m.set_net_params({"bend.n.amount": 1.0})
        return m.generate(z)

    a, b, c = diff("random:0.25", 1), diff("random:0.25", 1), diff("random:0.25", 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(a.astype(int) - ref).mean() < np.abs(diff("all", 0).astype(int) - ref).mean()


def test_noise_is_a_function_of_seed_and_step_and_flows_between_steps(face, z):
    m = bent([BendSpec("n", "res8", "noise", seed=5)])
    imgs = {}
    for step in (0.0, 0.5, 1.0):
        m.set_net_params({"bend.n.amount": 1.5, "bend.n.step": step})
        imgs[step] = m.generate(z).astype(int)
        m.set_net_params({"bend.n.amount": 1.5, "bend.n.step": 7.0})  # another field in between
        m.generate(z)
        m.set_net_params({"bend.n.amount": 1.5, "bend.n.step": step})
        assert np.array_equal(m.generate(z), imgs[step])  # the same step gives the same noise, whatever came before
    other = bent([BendSpec("n", "res8", "noise", seed=5)])  # another model object: same seed, same noise
    other.set_net_params({"bend.n.amount": 1.5, "bend.n.step": 1.0})
    assert np.array_equal(other.generate(z), imgs[1.0])
    far = np.abs(imgs[0.0] - imgs[1.0]).mean()
    assert 0 < np.abs(imgs[0.5] - imgs[0.0]).mean() < far


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_never_reach_the_network(face, z, bad):
    m = bent([BendSpec("r", "res16", "rotate"), BendSpec("n", "res8", "noise")])
    m.set_net_params({"bend.r.angle": bad, "bend.n.amount": bad, "bend.n.step": bad, "unknown.name": 1.0})
    out = m.generate(z)
    assert np.array_equal(out, face.generate(z))


def test_values_are_clamped_to_the_transforms_range(face, z):
    a, b = bent([BendSpec("s", "res8", "zoom")]), bent([BendSpec("s", "res8", "zoom")])
    a.set_net_params({"bend.s.factor": 4.0})
    b.set_net_params({"bend.s.factor": 400.0})
    assert np.array_equal(a.generate(z), b.generate(z))


@pytest.mark.parametrize("spec, words", [
    (BendSpec("x", "res17", "rotate"), ["unknown layer 'res17'", "res4, res8, res16, res32, res64"]),
    (BendSpec("x", "res8", "twirl"), ["unknown transform 'twirl'", "rotate", "sine-fold"]),
    (BendSpec("x", "res8", "ablate", "cluster:8"), ["unknown cluster 8", "0..7"]),
    (BendSpec("x", "res8", "ablate", "some"), ["unknown target 'some'", "random:<fraction>"]),
    (BendSpec("x", "res8", "rotate", params=(("angel", 1.0),)), ["no parameter 'angel'", "angle"]),
])
def test_a_bad_bend_is_refused_naming_it_and_the_valid_choices(face, spec, words):
    with pytest.raises(BendError) as e:
        bent([spec])
    for w in words:
        assert w in str(e.value)


def test_a_cluster_bend_needs_clusters_in_the_card(tmp_path):
    pair = random_pair(seed=1, device="cpu")  # untrained: no clusters in its card
    with pytest.raises(BendError, match=r"no feature clusters for layer .res8. \(run `perform clusters"):
        BentModel(pair, [BendSpec("x", "res8", "ablate", "cluster:0")])


def test_a_pair_bends_both_generators_and_identity_is_exact():
    plain = random_pair(seed=2, device="cpu")
    z = np.random.default_rng(0).standard_normal(plain.latent_dim).astype(np.float32)
    ref_a, ref_b = plain.generate_pair(z)
    m = BentModel(random_pair(seed=2, device="cpu"), [BendSpec("w", "res16", "rotate")])
    a, b = m.generate_pair(z)
    assert np.array_equal(a, ref_a) and np.array_equal(b, ref_b)
    m.set_net_params({"bend.w.angle": 90.0})
    a, b = m.generate_pair(z)
    assert changed(a, ref_a) > 0.3 and changed(b, ref_b) > 0.3


def test_the_shipped_pairs_clusters_bend_each_generator_by_its_own():
    m = BentModel(load_model(REPO_ROOT / "models" / "pair-tug-of-war.json", "cpu"),
                  [BendSpec("c", "res16", "ablate", "cluster:0")])
    z = np.zeros(m.latent_dim, np.float32)
    ref = m.generate_pair(z)
    m.set_net_params({"bend.c.amount": 1.0})
    out = m.generate_pair(z)
    assert all(changed(o, r) > 0.05 for o, r in zip(out, ref))


class TinyBlend:
    """A stand-in for a model with its own live parameter (`blend.alpha`): the bend wrapper must pass it on."""

    def __init__(self, inner):
        self.inner, self.alpha = inner, 0.0
        self.info, self.latent_dim = inner.info, inner.latent_dim

    def generators(self):
        return self.inner.generators()

    def net_params(self):
        return {"blend.alpha": (0.0, 1.0, 0.0)}

    def set_net_params(self, values):
        v = values.get("blend.alpha", 0.0)
        self.alpha = v if math.isfinite(v) else 0.0

    def generate(self, latent, crop=None, mix=0.0):
        img = self.inner.generate(latent, crop, mix)
        return (img * (1.0 - self.alpha)).astype(np.uint8)


def test_a_bent_model_keeps_the_inner_models_live_parameters(z):
    m = BentModel(TinyBlend(load_model(FACE, "cpu")), [BendSpec("r", "res8", "rotate")])
    assert set(m.net_params()) == {"blend.alpha", "bend.r.angle"}
    m.set_net_params({"blend.alpha": 1.0, "bend.r.angle": 0.0})
    assert m.inner.alpha == 1.0 and not m.generate(z).any()
    m.set_net_params({})
    assert m.inner.alpha == 0.0


def test_bend_model_with_no_bends_is_the_model_itself(face):
    assert bend_model(face, ()) is face


def test_kmeans_finds_planted_groups_and_numbers_them_by_size():
    g = torch.Generator().manual_seed(0)
    centres = torch.eye(3, 16) * 10
    sizes = (9, 5, 2)
    pts = torch.cat([c + 0.1 * torch.randn(n, 16, generator=g) for c, n in zip(centres, sizes)])
    labels = kmeans(pts, 3, seed=1)
    assert labels.tolist() == [0] * 9 + [1] * 5 + [2] * 2
    assert np.array_equal(kmeans(pts, 3, seed=1), labels)


def test_the_shipped_cards_hold_clusters_for_every_layer():
    for name in ("face-64", "pair-diametric", "pair-tug-of-war"):
        model = load_model(REPO_ROOT / "models" / f"{name}.json", "cpu")  # the weights still match their cards
        gens = model.generators()
        cfg = next(iter(gens.values())).cfg
        clusters = card_clusters(model.info.card, cfg)
        assert set(clusters) == set(gens)
        for key in gens:
            assert set(clusters[key]) == {"res4", "res8", "res16", "res32", "res64"}
            for layer, labels in clusters[key].items():
                assert labels.max() >= 1  # at least two clusters
        entry = model.info.card["clusters"]["generators"][next(iter(gens))]["res16"]
        assert len(entry["effect"]) == entry["k"] and min(entry["effect"]) > 0
