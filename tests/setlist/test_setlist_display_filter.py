"""The display filter in a setlist: `fsr` (with its sharpness) accepted, an unknown filter refused naming the valid ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from perform.cli import main
from perform.setlist.check import check_setlist

pytestmark = pytest.mark.gl  # perform check compiles the scene's chain

SHOW = '''
[show]
title = "t"

[[scene]]
name = "one"
model = "tiny-a"
duration = "hold"
[[scene.shader]]
type = "display"
params = { filter = "fsr", sharpness = 0.6 }
'''


def check(show_dir: Path, text: str):
    p = show_dir / "show.toml"
    p.write_text(text)
    return check_setlist(p, timing=False)


def test_fsr_with_a_sharpness_is_accepted(show_dir):
    report = check(show_dir, SHOW)
    assert report.ok, [str(p) for p in report.problems]


def test_an_unknown_filter_is_refused_naming_the_valid_ones(show_dir, capsys):
    report = check(show_dir, SHOW.replace('"fsr"', '"lanczos"'))
    assert not report.ok
    text = "\n".join(str(p) for p in report.errors)
    assert "scene[0].shader[0].params.filter" in text and "'lanczos'" in text, text
    assert "'nearest', 'linear', 'bicubic', 'fsr'" in text, text
    assert main(["check", "--no-timing", str(show_dir / "show.toml")]) == 2
    assert "'bicubic', 'fsr'" in capsys.readouterr().out


def test_a_sharpness_out_of_range_is_refused(show_dir):
    report = check(show_dir, SHOW.replace("sharpness = 0.6", "sharpness = 3"))
    assert not report.ok and "params.sharpness" in "\n".join(str(p) for p in report.errors)
