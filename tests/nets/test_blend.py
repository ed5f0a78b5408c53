"""Weight blending and layer swapping: the ends are each model bit for bit, the middle is neither, a swap of
no layers changes nothing, mismatched models are refused naming the layer, bad values never reach the net."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from perform.nets.blend import BlendError, build_blend, check_blendable, generator_layers
from perform.nets.checkpoint import save_checkpoint
from perform.nets.model import load_model
from perform.nets.pair import save_pair
from perform.nets.vaegan import VAEGAN, Generator, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=16)
Z = np.random.default_rng(3).standard_normal(CFG.latent_dim).astype(np.float32)


def _card(path, cfg: VAEGANConfig = CFG, seed: int = 0):
    torch.manual_seed(seed)
    net = VAEGAN(cfg, with_critic=False)
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator_ema.{k}": v for k, v in net.generator.state_dict().items()}
    for k, v in tensors.items():  # BatchNorm statistics that are not (0, 1), so every tensor matters
        if k.endswith("running_mean"):
            v.normal_(0, 0.1)
        elif k.endswith("running_var"):
            v.uniform_(0.5, 2.0)
    return save_checkpoint(path, tensors, {"kind": "vaegan", "name": path.name, "config": cfg.to_dict()})


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    d = tmp_path_factory.mktemp("blend")
    return _card(d / "a", seed=0), _card(d / "b", seed=1)


def _image(path) -> np.ndarray:
    return load_model(path, "cpu").generate(Z)


def test_alpha_ends_are_each_model_bit_for_bit_and_the_middle_is_neither(cards):
    a, b = cards
    want_a, want_b = _image(a), _image(b)
    assert not np.array_equal(want_a, want_b)
    m = build_blend(a, b, torch.device("cpu"))
    m.set_net_params({"blend.alpha": 0.0})
    assert np.array_equal(m.generate(Z), want_a)
    m.set_net_params({"blend.alpha": 1.0})
    assert np.array_equal(m.generate(Z), want_b)
    m.set_net_params({"blend.alpha": 0.5})
    mid = m.generate(Z)
    assert not np.array_equal(mid, want_a) and not np.array_equal(mid, want_b)
    for alpha in (0.3, 0.9, 0.1):  # wherever it has been, the ends come back exactly
        m.set_net_params({"blend.alpha": alpha})
        m.generate(Z)
    m.set_net_params({"blend.alpha": 0.0})
    assert np.array_equal(m.generate(Z), want_a)
    m.set_net_params({"blend.alpha": 1.0})
    assert np.array_equal(m.generate(Z), want_b)


def test_weights_are_written_only_when_alpha_changes_and_only_the_group_that_moved(cards):
    m = build_blend(*cards, torch.device("cpu"), defaults={"blend.alpha": 0.5})
    m.generate(Z)
    before = m.writes
    m.generate(Z)
    m.set_net_params({"blend.alpha": 0.5})
    m.generate(Z)
    assert m.writes == before  # same values: nothing written
    m.set_net_params({"blend.alpha": 0.5, "blend.alpha.fine": 0.25})
    m.generate(Z)
    fine = sum(1 for k in m.net.generator.state_dict() if m._layer[k].group == "fine")
    assert m.writes - before == fine > 0


def test_group_alpha_takes_one_group_from_the_second_model(cards):
    a, b = cards
    m = build_blend(a, b, torch.device("cpu"))
    gb = load_model(b, "cpu").net.generator.state_dict()
    ga = load_model(a, "cpu").net.generator.state_dict()
    m.set_net_params({"blend.alpha": 0.0, "blend.alpha.coarse": 1.0})
    img = m.generate(Z)
    live = m.net.generator.state_dict()
    for k, t in live.items():
        want = gb[k] if m._layer[k].group == "coarse" else ga[k]
        assert torch.equal(t, want), k
    assert not np.array_equal(img, _image(a)) and not np.array_equal(img, _image(b))


def test_swapping_no_layers_is_identity_and_swapping_all_is_the_second_model(cards):
    a, b = cards
    none = build_blend(a, b, torch.device("cpu"), swap=(), defaults={"blend.alpha": 0.0, "blend.swap": 1.0})
    assert np.array_equal(none.generate(Z), _image(a))
    names = tuple(layer.name for layer in generator_layers(CFG))
    every = build_blend(a, b, torch.device("cpu"), swap=names, defaults={"blend.alpha": 0.0, "blend.swap": 1.0})
    assert np.array_equal(every.generate(Z), _image(b))
    every.set_net_params({"blend.alpha": 0.0, "blend.swap": 0.0})  # swap off: the first model again
    assert np.array_equal(every.generate(Z), _image(a))


def test_one_swapped_layer_holds_the_second_models_weights_alone(cards):
    a, b = cards
    m = build_blend(a, b, torch.device("cpu"), swap=("g.2",), defaults={"blend.swap": 1.0, "blend.alpha": 0.0})
    img = m.generate(Z)
    ga, gb = (load_model(p, "cpu").net.generator.state_dict() for p in (a, b))
    for k, t in m.net.generator.state_dict().items():
        assert torch.equal(t, gb[k] if m._layer[k].name == "g.2" else ga[k]), k
    assert not np.array_equal(img, _image(a))


def test_mismatched_models_are_refused_naming_the_first_layer_that_differs_and_both_files(tmp_path, cards):
    # half the width below the channel cap: the 4x4 and 8x8 stages match, the 16x16 stage (g.2) does not
    narrow = _card(tmp_path / "narrow", VAEGANConfig(resolution=32, latent_dim=8, width=4, max_channels=16))
    with pytest.raises(BlendError) as e:
        check_blendable(cards[0], narrow)
    msg = str(e.value)
    assert "layer g.2" in msg and "blocks.3.weight" in msg and "a.safetensors" in msg and "narrow.safetensors" in msg
    with pytest.raises(BlendError, match="g.2"):
        build_blend(cards[0], narrow, torch.device("cpu"))


def test_unknown_swap_layer_is_refused_with_the_valid_choices(cards):
    with pytest.raises(BlendError, match=r"'g\.9' unknown.*g\.0, g\.1, g\.2, g\.3, g\.4"):
        build_blend(*cards, torch.device("cpu"), swap=("g.9",))


def test_non_finite_values_never_reach_the_network(cards):
    m = build_blend(*cards, torch.device("cpu"))
    m.set_net_params({"blend.alpha": 0.5})
    want = m.generate(Z)
    for bad in (math.nan, math.inf, -math.inf, "x", None):
        m.set_net_params({"blend.alpha": bad, "blend.alpha.fine": bad, "nonsense": 1.0})
        assert m.params.values["blend.alpha"] == 0.5 and m.params.values["blend.alpha.fine"] == 0.0
        assert np.array_equal(m.generate(Z), want)
    assert all(torch.isfinite(t).all() for t in m.net.generator.state_dict().values() if t.is_floating_point())
    m.set_net_params({})  # missing names: back to the defaults (alpha 0: the first model)
    assert np.array_equal(m.generate(Z), _image(cards[0]))


def test_groups_follow_generator_depth():
    groups = {layer.name: layer.group for layer in generator_layers(VAEGANConfig(resolution=64))}
    assert groups == {"g.0": "coarse", "g.1": "coarse", "g.2": "middle", "g.3": "middle", "g.4": "fine", "g.5": "fine"}


def test_a_pair_is_refused_naming_its_file(tmp_path, cards):
    snaps = [(Generator(CFG).state_dict(), Generator(CFG).state_dict())]
    pair = save_pair(tmp_path / "p", snaps, {"name": "p", "config": CFG.to_dict(), "snapshots": [{"step": 0}]})
    with pytest.raises(BlendError, match=r"p\.safetensors: a 'pair' model cannot be blended"):
        check_blendable(cards[0], pair)
