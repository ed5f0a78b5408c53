"""`perform check` and the loader on broken setlists: each fails with the message a performer needs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from perform.cli import main
from perform.setlist.check import check_setlist
from perform.setlist.loader import load_setlist
from perform.setlist.problems import SetlistError

GOOD = '''
[show]
title = "t"

[[scene]]
name = "one"
model = "tiny-a"
duration = { seconds = 2 }
transition = { kind = "crossfade", seconds = 1 }
[[scene.shader]]
type = "colour_grade"
name = "grade"
params = { contrast = 1.2 }
[[scene.mapping]]
source = "face.yaw"
target = "direction.smile"

[[scene]]
name = "two"
model = "tiny-a"
duration = "hold"
'''


def write(show_dir: Path, text: str) -> Path:
    p = show_dir / "show.toml"
    p.write_text(text)
    return p


def check(show_dir: Path, text: str, **kw):
    return check_setlist(write(show_dir, text), timing=False, **kw)


def only_error(report, *needles: str):
    assert not report.ok
    text = "\n".join(str(p) for p in report.errors)
    for n in needles:
        assert n in text, text
    return report.errors


def test_good_setlist_passes_and_cli_exits_zero(show_dir, capsys):
    report = check(show_dir, GOOD)
    assert report.ok, [str(p) for p in report.problems]
    assert main(["check", "--no-timing", str(show_dir / "show.toml")]) == 0
    out = capsys.readouterr().out
    assert "OK: show.toml" in out and "[1]" in out and "two" in out


def test_syntax_error_names_line(show_dir, capsys):
    bad = GOOD.replace('name = "two"', 'name = "two')
    (err,) = only_error(check(show_dir, bad), "TOML syntax error")
    assert err.line == GOOD.splitlines().index('name = "two"') + 1
    assert main(["check", "--no-timing", str(show_dir / "show.toml")]) == 2
    assert "FAILED" in capsys.readouterr().out


def test_unknown_key_suggests_closest(show_dir):
    bad = GOOD.replace('transition = { kind = "crossfade", seconds = 1 }', 'transision = { kind = "crossfade", seconds = 1 }')
    (err,) = only_error(check(show_dir, bad), "scene[0].transision", "did you mean 'transition'?")
    assert err.line == 9


def test_bad_choice_suggests_closest(show_dir):
    only_error(check(show_dir, GOOD.replace('kind = "crossfade"', 'kind = "crosfade"')),
               "scene[0].transition.kind", "did you mean 'crossfade'?")


def test_missing_model(show_dir):
    bad = GOOD.replace('model = "tiny-a"\nduration = "hold"', 'model = "tiny-c"\nduration = "hold"')
    errors = only_error(check(show_dir, bad), "scene[1].model", "'tiny-c' not found", "did you mean")
    assert errors[0].line == bad.splitlines().index('model = "tiny-c"') + 1


def test_a_model_not_found_names_the_folders_searched(show_dir, model_dir, monkeypatch):
    # the message said "beside the setlist and in models/" whatever was searched; a $PERFORM_MODELS typo went unseen
    monkeypatch.setenv("PERFORM_MODELS", f"{model_dir}:{show_dir / 'modles'}")
    bad = GOOD.replace('model = "tiny-a"\nduration = "hold"', 'model = "tiny-c"\nduration = "hold"')
    only_error(check(show_dir, bad), f"looked in {show_dir}, {model_dir}, {show_dir / 'modles'} (no such folder, from "
               "$PERFORM_MODELS)")


def test_broken_model_file_fails_at_load(show_dir, model_dir):
    broken = show_dir / "models"
    broken.mkdir()
    shutil.copy(model_dir / "tiny-a.json", broken / "cracked.json")
    (broken / "cracked.safetensors").write_bytes(b"\x80\x04 not safetensors at all")
    only_error(check(show_dir, GOOD.replace('"tiny-a"', '"cracked"')), "scene[0].model", "cannot be loaded", "pickle")


@pytest.mark.gl
def test_shader_that_does_not_compile(show_dir, monkeypatch):
    import perform.render.shaders as shaders

    src = shaders.find_shader_dir()
    broken = show_dir / "shaders"
    shutil.copytree(src, broken)
    (broken / "colour_grade.frag").write_text("#version 330\nvoid main() { this is not glsl; }\n")
    monkeypatch.setenv(shaders.ENV_SHADER_DIR, str(broken))
    only_error(check(show_dir, GOOD), "scene[0].shader", "colour_grade.frag failed to compile")


def test_unknown_shader_type_and_param(show_dir):
    bad = GOOD.replace('type = "colour_grade"', 'type = "colour_grad"').replace("contrast = 1.2", "contrast = 1.2, contrst = 1")
    only_error(check(show_dir, bad), "scene[0].shader[0].type", "did you mean 'colour_grade'?")
    only_error(check(show_dir, GOOD.replace("contrast = 1.2", "contrst = 1")), "scene[0].shader[0].params.contrst", "did you mean 'contrast'?")
    only_error(check(show_dir, GOOD.replace("contrast = 1.2", "contrast = 99")), "params.contrast", "outside")


def test_mapping_to_unknown_target(show_dir):
    bad = GOOD.replace('target = "direction.smile"', 'target = "direction.smiel"')
    only_error(check(show_dir, bad), "scene[0].mapping[0].target", "no direction 'smiel'", "did you mean 'smile'?")
    only_error(check(show_dir, GOOD.replace('"direction.smile"', '"shader.grade.hue"')), "no shader parameter 'grade.hue'")
    only_error(check(show_dir, GOOD.replace('"direction.smile"', '"latent.8"')), "latent index 8")


def test_mapping_schema_error_names_the_key(show_dir):
    only_error(check(show_dir, GOOD.replace('source = "face.yaw"', 'source = "face.yaw"\ncurv = "linear"')),
               "scene[0].mapping[0].curv")


def test_negative_duration_and_all_errors_collected(show_dir):
    bad = GOOD.replace("duration = { seconds = 2 }", "duration = { seconds = -2 }").replace('duration = "hold"', 'duration = "hodl"')
    with pytest.raises(SetlistError) as e:
        load_setlist(write(show_dir, bad))
    keys = [p.key for p in e.value.errors]
    assert keys == ["scene[0].duration.seconds", "scene[1].duration"]
    assert "positive length" in str(e.value) and "did you mean 'hold'?" in str(e.value)
    assert e.value.line == 8 and e.value.key == "scene[0].duration.seconds"


def test_latent_transition_across_models_is_an_error(show_dir):
    bad = GOOD.replace('kind = "crossfade"', 'kind = "latent"').replace('model = "tiny-a"\nduration = "hold"', 'model = "tiny-b"\nduration = "hold"')
    only_error(check(show_dir, bad), "scene[0].transition.kind", "same model")


def test_keyframes_of_the_wrong_length(show_dir):
    only_error(check(show_dir, GOOD.replace('name = "two"', 'name = "two"\nkeyframes = [[0.0, 1.0, 2.0]]')),
               "scene[1].keyframes", "3 values", "latent has 8")


def test_warnings_unreachable_scene_and_short_scene(show_dir):
    text = GOOD.replace('name = "two"', 'name = "two"\ntransition = "cut"') + '\n[[scene]]\nname = "three"\nmodel = "tiny-a"\nduration = 1\n'
    text = text.replace("seconds = 1 }", "seconds = 1.5 }")
    report = check(show_dir, text)
    assert report.ok
    warnings = "\n".join(str(p) for p in report.warnings)
    assert "reached only by hand" in warnings and "'three'" in warnings


def test_check_names_the_tensor_holding_nan(show_dir, capsys):
    from safetensors.torch import load_file, save_file

    from perform.setlist.paths import shipped_models_dir

    models = show_dir / "models"
    models.mkdir()
    src = shipped_models_dir() / "face-64"
    tensors = load_file(str(src.with_suffix(".safetensors")))
    tensors["encoder.head.weight"] = torch.full_like(tensors["encoder.head.weight"], float("nan"))
    save_file(tensors, str(models / "nan-face.safetensors"))
    shutil.copy(src.with_suffix(".json"), models / "nan-face.json")
    show = write(show_dir, GOOD.replace('"tiny-a"', '"nan-face"').replace('"tiny-b"', '"nan-face"'))
    assert main(["check", "--no-gl", "--no-timing", str(show)]) == 2
    out = capsys.readouterr().out
    assert "FAILED" in out and "nan-face.safetensors" in out and "'encoder.head.weight'" in out and "NaN" in out


def test_a_repeated_scene_name_names_the_first_scene_counting_from_0(show_dir):
    # scenes count from 0 everywhere (key paths, /perform/scene/go): the message said "scene 2" for scene[1]
    report = check(show_dir, GOOD + '\n[[scene]]\nname = "two"\nmodel = "tiny-a"\nduration = 1\n', gl=False)
    only_error(report, "scene[2].name", "'two' is also scene[1]'s")


def test_strict_says_failed_on_the_setlist_a_warning_fails(show_dir, capsys):
    # the verdict line said "OK: ..." above "perform check: error: 1 of 1 setlist(s) failed the check"
    path = write(show_dir, GOOD + '[[scene]]\nname = "three"\nmodel = "tiny-a"\nduration = 1\n')  # after a hold
    assert main(["check", str(path), "--no-gl", "--no-timing", "--strict"]) == 2
    out = capsys.readouterr().out
    assert "warning" in out and "FAILED (--strict): show.toml: 0 error(s), 1 warning(s)" in out, out
    assert main(["check", str(path), "--no-gl", "--no-timing"]) == 0
    assert "OK: show.toml: 0 error(s), 1 warning(s)" in capsys.readouterr().out
