"""Mapping files: parsing, refusals that name the file and key, target validation against a model."""

import pytest

from perform.mapping.spec import (MappingError, TargetContext, load_default_mappings, load_mappings, parse_mapping,
                                  validate_specs)


def write(tmp_path, text):
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


def refused(tmp_path, text):
    with pytest.raises(MappingError) as e:
        load_mappings(write(tmp_path, text))
    return str(e.value)


def test_a_full_entry_loads(tmp_path):
    (s,) = load_mappings(write(tmp_path, """
[[mapping]]
source = "lfo.triangle"
target = "shader.bloom.amount"
beats = 4
out = [0.2, 0.9]
curve = "exponential"
k = 2.0
smooth = { min_cutoff = 0.5, beta = 0.1 }
combine = "multiply"
"""))
    assert (s.source_kind, s.source_name, s.target, s.beats, s.rate_hz) == ("lfo", "triangle", "shader.bloom.amount", 4.0, None)
    assert s.out_range == (0.2, 0.9) and s.in_range == (0.0, 1.0)
    assert s.smooth.one_euro and s.smooth.beta == 0.1
    assert "m.toml" in s.where and "#1" in s.where


def test_face_sources_default_to_the_feature_range():
    s = parse_mapping({"source": "face.yaw", "target": "latent.0"}, "x")
    assert s.in_range == (-1.0, 1.0) and s.out_range == (-2.0, 2.0)


@pytest.mark.parametrize("entry, words", [
    ('source = "face.mouth"\ntarget = "mix"', ["source", "mouth_open"]),
    ('source = "in.a"\ntarget = "latnt.3"', ["target", "latent"]),
    ('source = "in.a"\ntarget = "mix"\nin = [1, 1]', ["'in'", "empty"]),
    ('source = "in.a"\ntarget = "mix"\nout = [0]', ["'out'", "[low, high]"]),
    ('source = "in.a"\ntarget = "mix"\ncurve = "smoothstpe"', ["curve", "smoothstep"]),
    ('source = "in.a"\ntarget = "mix"\nsmoth = 0.1', ["smoth", "smooth"]),
    ('source = "in.a"\ntarget = "mix"\nrate = 1.0', ["rate", "LFO"]),
    ('source = "lfo.sin"\ntarget = "mix"', ["sine"]),
    ('source = "in.a"\ntarget = "mix"\nsmooth = { beta = -1 }', ["smooth.beta"]),
    ('target = "mix"', ["'source' missing"]),
])
def test_bad_entries_are_refused_naming_file_entry_and_key(tmp_path, entry, words):
    msg = refused(tmp_path, "[[mapping]]\n" + entry + "\n")
    assert "m.toml" in msg and "[[mapping]] #1" in msg
    for w in words:
        assert w in msg, msg


def test_unknown_top_level_key_and_bad_toml(tmp_path):
    assert "'mappings'" in refused(tmp_path, "[[mappings]]\nsource = 'time'\ntarget = 'mix'\n")
    assert "not valid TOML" in refused(tmp_path, "[[mapping]\n")


def test_validation_against_the_model_resolves_fallbacks_and_names_problems(tmp_path):
    specs = load_mappings(write(tmp_path, """
[[mapping]]
source = "face.mouth_open"
target = "direction.mouth_open"
fallback = ["direction.pc0"]

[[mapping]]
source = "in.a"
target = "direction.smiel"

[[mapping]]
source = "in.b"
target = "latent.70"

[[mapping]]
source = "in.c"
target = "shader.blom.amount"
"""))
    ctx = TargetContext(64, frozenset({"pc0", "smile"}), 0, frozenset({("bloom", "amount")}))
    with pytest.raises(MappingError) as e:
        validate_specs(specs, ctx)
    msg = str(e.value)
    assert "#1" not in msg
    assert "#2" in msg and "'smile'" in msg          # suggestion
    assert "#3" in msg and "latent_dim 64" in msg
    assert "#4" in msg and "bloom.amount" in msg
    assert validate_specs(specs[:1], ctx)[0].target == "direction.pc0"


def test_default_mappings_fit_any_model():
    specs = load_default_mappings()
    assert any(s.source == "face.mouth_open" and s.target == "direction.mouth_open" for s in specs)
    bare = validate_specs(specs, TargetContext(64))
    assert {s.target for s in bare} >= {"latent.0", "latent.1", "latent.8"}
    named = validate_specs(specs, TargetContext(64, frozenset({"mouth_open", "yaw", "pc2"})))
    assert {"direction.mouth_open", "direction.yaw", "direction.pc2"} <= {s.target for s in named}
    tiny = validate_specs(specs, TargetContext(2))  # optional entries that fit nowhere drop out
    assert {s.target for s in tiny} <= {"latent.0", "latent.1"}
