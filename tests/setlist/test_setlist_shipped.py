"""Every shipped setlist passes `perform check` against the shipped models."""

from __future__ import annotations

from pathlib import Path

import pytest

from perform.setlist.check import check_setlist
from perform.setlist.paths import resolve_model

SETLISTS = sorted((Path(__file__).resolve().parents[2] / "setlists").glob("*.toml"))


def test_there_is_a_demo():
    assert any(p.name == "demo.toml" for p in SETLISTS)


@pytest.mark.gl
@pytest.mark.parametrize("path", SETLISTS, ids=[p.name for p in SETLISTS])
def test_shipped_setlist_passes_check(path, monkeypatch):
    monkeypatch.delenv("PERFORM_MODELS", raising=False)
    report = check_setlist(path, timing=False)
    assert report.ok, "\n".join(str(p) for p in report.errors)
    unexpected = [p for p in report.warnings if "not found" not in p.message]  # the demo session may ship later
    assert not unexpected or path.name != "demo.toml", "\n".join(str(p) for p in unexpected)
    for scene in report.setlist.scenes:
        assert resolve_model(scene.model, path.parent) is not None
