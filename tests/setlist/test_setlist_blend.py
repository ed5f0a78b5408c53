"""A scene's `blend` and `trajectory` keys: loaded, checked by `perform check` (a mismatched blend names the
layer and both files), built by the show's model loading and rebuilt alike in the inference child."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from perform.engine.inference_child import build
from perform.engine.show import build_models
from perform.nets.checkpoint import save_checkpoint
from perform.nets.model import load_model
from perform.nets.vaegan import VAEGAN, VAEGANConfig
from perform.setlist.check import check_setlist
from perform.setlist.loader import load_setlist
from perform.setlist.problems import SetlistError
from tests.setlist.conftest import TINY, write_vaegan

SCENE = '''
[[scene]]
name = "{name}"
model = "{model}"
duration = {{ seconds = 2 }}
{extra}
'''


def setlist(show_dir: Path, *scenes: tuple[str, str, str]) -> Path:
    text = '[show]\ntitle = "t"\n' + "".join(SCENE.format(name=n, model=m, extra=e) for n, m, e in scenes)
    path = show_dir / "show.toml"
    path.write_text(text)
    return path


@pytest.fixture
def blend_dir(show_dir, model_dir):
    """tiny-a2: tiny-a's architecture, other weights; tiny-narrow: same latent, narrower middle layers."""
    if not (model_dir / "tiny-a2.json").exists():
        write_vaegan(model_dir / "tiny-a2", 8, 7)
        cfg = VAEGANConfig(latent_dim=8, **{**TINY, "width": 4})
        torch.manual_seed(0)
        net = VAEGAN(cfg, with_critic=False)
        tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
        tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
        save_checkpoint(model_dir / "tiny-narrow", tensors, {"name": "tiny-narrow", "kind": "vaegan", "config": cfg.to_dict()})
    return show_dir


def test_blend_key_loads_into_the_scene(blend_dir):
    sl = load_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-a2", alpha = 0.25, fine = 0.5, swap = ["g.1"] }')))
    b = sl.scenes[0].blend
    assert b.with_model == "tiny-a2" and b.with_path.name == "tiny-a2.json" and b.swap == ("g.1",)
    assert b.net_defaults() == {"blend.alpha": 0.25, "blend.alpha.fine": 0.5, "blend.swap": 1.0}


@pytest.mark.parametrize("extra, words", [
    ('blend = { with = "tiny-a2", beta = 1 }', ["beta"]),
    ('blend = { with = "nowhere" }', ["nowhere", "not found"]),
    ('blend = { with = "tiny-a2", alpha = 2 }', ["alpha", "between 0 and 1"]),
    ('blend = { alpha = 0.5 }', ["with", "missing"]),
    ('trajectory = -1', ["trajectory", "between 0 and 1"]),
])
def test_bad_blend_keys_are_refused_by_name(blend_dir, extra, words):
    with pytest.raises(SetlistError) as e:
        load_setlist(setlist(blend_dir, ("b", "tiny-a", extra)))
    for w in words:
        assert w in str(e.value)


def test_scenes_sharing_a_model_must_declare_it_alike(blend_dir):
    with pytest.raises(SetlistError, match="scene 'two' declares model 'tiny-a' differently from scene 'one'"):
        load_setlist(setlist(blend_dir, ("one", "tiny-a", 'blend = { with = "tiny-a2" }'), ("two", "tiny-a", "")))
    load_setlist(setlist(blend_dir, ("one", "tiny-a", 'blend = { with = "tiny-a2" }'),
                         ("two", "tiny-a", 'blend = { with = "tiny-a2" }')))


def test_check_refuses_a_mismatched_blend_naming_the_layer_and_both_files(blend_dir):
    report = check_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-narrow" }')), gl=False, timing=False)
    msgs = [str(p) for p in report.errors]
    assert len(msgs) == 1, msgs
    assert "layer g.2 differs" in msgs[0] and "tiny-a.json" in msgs[0] and "tiny-narrow.json" in msgs[0]
    ok = check_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-a2", swap = ["g.1"] }')), gl=False, timing=False)
    assert ok.ok, [str(p) for p in ok.errors]


def test_check_refuses_an_unknown_swap_layer_and_a_trajectory_on_a_plain_model(blend_dir):
    report = check_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-a2", swap = ["g.7"] }\ntrajectory = 0.5')),
                           gl=False, timing=False)
    msgs = " | ".join(str(p) for p in report.errors)
    assert "'g.7' unknown" in msgs and "g.0, g.1, g.2, g.3, g.4" in msgs
    assert "no snapshot trajectory" in msgs


def test_show_builds_the_declared_blend_and_the_inference_child_rebuilds_it_alike(blend_dir, model_dir):
    sl = load_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-a2", alpha = 0.5 }'),
                              ("plain", "tiny-a2", "")))
    models = build_models(sl, "cpu")
    blend = models[str(sl.scenes[0].model_path)]
    assert blend.info.kind == "blend" and blend.net_params()["blend.alpha"] == (0.0, 1.0, 0.5)
    z = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    img = blend.generate(z)
    a, b = (load_model(model_dir / f"{n}.json", "cpu").generate(z) for n in ("tiny-a", "tiny-a2"))
    assert not np.array_equal(img, a) and not np.array_equal(img, b)  # the declared alpha is in effect
    assert np.array_equal(build(blend.spec, "cpu").generate(z), img)
    assert models[str(sl.scenes[1].model_path)].info.kind == "vaegan"
    # a hot reload reuses the cached blend when its declaration is unchanged, and builds it again when not
    assert build_models(sl, "cpu", cache=models)[str(sl.scenes[0].model_path)] is blend
    sl2 = load_setlist(setlist(blend_dir, ("b", "tiny-a", 'blend = { with = "tiny-a2", alpha = 1.0 }')))
    again = build_models(sl2, "cpu", cache=models)[str(sl2.scenes[0].model_path)]
    assert again is not blend and np.array_equal(again.generate(z), b)
