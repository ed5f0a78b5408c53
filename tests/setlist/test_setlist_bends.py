"""[[scene.bend]] and [scene.net] in setlists: parsed, and refused with file, line, key and the valid choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from perform.resources import REPO_ROOT
from perform.setlist.check import check_setlist
from perform.setlist.loader import load_setlist
from perform.setlist.problems import SetlistError

BENT = '''
[show]
title = "t"

[[scene]]
name = "one"
model = "tiny-a"
duration = 2
[[scene.bend]]
name = "warp"
layer = "res8"
transform = "rotate"
params = { angle = 90 }
[[scene.bend]]
name = "grain"
layer = "res16"
transform = "noise"
target = "random:0.5"
seed = 4
[[scene.mapping]]
source = "lfo.sine"
target = "bend.grain.amount"
[scene.net]
bend.warp.angle = 45

[[scene]]
name = "two"
model = "tiny-a"
duration = "hold"
'''


def write(show_dir: Path, text: str) -> Path:
    p = show_dir / "show.toml"
    p.write_text(text)
    return p


def errors_of(show_dir: Path, text: str) -> str:
    with pytest.raises(SetlistError) as e:
        load_setlist(write(show_dir, text))
    return str(e.value)


def check_errors(show_dir: Path, text: str) -> str:
    report = check_setlist(write(show_dir, text), timing=False, gl=False)
    assert not report.ok
    return "\n".join(str(p) for p in report.errors)


def test_bends_and_net_values_are_read_and_checked(show_dir):
    sl = load_setlist(write(show_dir, BENT))
    one = sl.scenes[0]
    assert [(b.name, b.layer, b.transform, b.target, b.seed) for b in one.bends] == [
        ("warp", "res8", "rotate", "all", 0), ("grain", "res16", "noise", "random:0.5", 4)]
    assert one.bends[0].params == (("angle", 90.0),)
    assert one.net == (("bend.warp.angle", 45.0),)  # TOML's dotted keys, joined back
    assert one.net_values == {"bend.warp.angle": 45.0}  # [scene.net] after the bend's own params
    report = check_setlist(write(show_dir, BENT), timing=False, gl=False)
    assert report.ok, [str(p) for p in report.problems]


@pytest.mark.parametrize("old, new, words", [
    ('transform = "rotate"', 'transform = "twirl"',
     ["show.toml:12", "scene[0].bend[0].transform", "'twirl'", "rotate, scale, translate, flip, zoom, ablate"]),
    ('target = "random:0.5"', 'target = "half"', ["scene[0].bend[1].target", "'half'", '"random:<fraction>"']),
    ('target = "random:0.5"', 'target = "random:1.5"', ["scene[0].bend[1].target", "'random:1.5'"]),
    ("params = { angle = 90 }", "params = { angel = 90 }", ["scene[0].bend[0].params.angel", "one of angle", "did you mean 'angle'"]),
    ("params = { angle = 90 }", "params = { angle = 900 }", ["scene[0].bend[0].params.angle", "between -180 and 180"]),
    ('name = "grain"', 'name = "warp"', ["scene[0].bend[1].name", "used twice"]),
    ('name = "grain"', 'name = "my grain"', ["scene[0].bend[1].name", "OSC address"]),
    ("bend.warp.angle = 45", "blend.beta = 1", ["scene[0].net.blend.beta", "not a live network parameter"]),
    ("bend.warp.angle = 45", "latent.3 = 1", ["scene[0].net.latent.3", "not a live network parameter"]),
])
def test_bad_bends_are_refused_where_they_are(show_dir, old, new, words):
    assert old in BENT
    text = errors_of(show_dir, BENT.replace(old, new, 1))
    for w in words:
        assert w in text, text


def test_one_bend_name_on_one_model_means_one_bend(show_dir):
    text = BENT.replace('duration = "hold"', 'duration = "hold"\n[[scene.bend]]\nname = "warp"\nlayer = "res16"\n'
                        'transform = "rotate"')
    msg = errors_of(show_dir, text)
    assert "scene[1].bend[0].name" in msg and "also scene[0]'s" in msg  # scenes count from 0, as in the key path


@pytest.mark.parametrize("old, new, words", [
    ('layer = "res8"', 'layer = "res64"', ["scene[0].bend[0].layer", "unknown layer 'res64'", "res4, res8, res16, res32"]),
    ('target = "random:0.5"', 'target = "cluster:0"', ["scene[0].bend[1].target", "no feature clusters", "perform clusters"]),
    ('target = "bend.grain.amount"', 'target = "bend.grain.amuont"',
     ["scene[0].mapping[0].target", "no live parameter 'bend.grain.amuont'", "bend.grain.amount, bend.grain.step"]),
    ("bend.warp.angle = 45", "blend.alpha = 0.5", ["scene[0].net.blend.alpha", "no live parameter 'blend.alpha'"]),
])
def test_check_refuses_what_the_model_does_not_have(show_dir, old, new, words):
    assert old in BENT
    text = check_errors(show_dir, BENT.replace(old, new, 1))
    for w in words:
        assert w in text, text


def test_a_cluster_the_card_does_not_have_is_refused_naming_its_clusters(show_dir):
    face = REPO_ROOT / "models" / "face-64"
    text = BENT.replace('model = "tiny-a"', f'model = "{face}"').replace('target = "random:0.5"', 'target = "cluster:9"')
    msg = check_errors(show_dir, text)
    assert "scene[0].bend[1].target" in msg and "unknown cluster 9 on layer 'res16'; its clusters are 0..7" in msg, msg


def test_a_mapping_cannot_reach_another_scenes_bend(show_dir):
    text = BENT.replace('duration = "hold"', 'duration = "hold"\n[[scene.mapping]]\nsource = "time"\ntarget = "bend.warp.angle"')
    msg = check_errors(show_dir, text)
    assert "scene[1].mapping[0].target" in msg and "no live parameter 'bend.warp.angle'" in msg
