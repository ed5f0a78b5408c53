"""`perform record DIR` checks the folder before the show and hands over to `perform live --record DIR`."""

from __future__ import annotations

import argparse

import pytest

from perform.commands import record
from perform.errors import PerformError


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    record.add_arguments(p)
    return p.parse_args(list(argv))


def test_record_refuses_a_folder_it_cannot_use_before_the_show(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(PerformError, match="is a file"):
        record.run(_args(str(f / "take1"), "--headless"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("x")
    with pytest.raises(PerformError, match="other files"):
        record.run(_args(str(tmp_path / "full")))


def test_record_rejects_two_different_folders(tmp_path):
    with pytest.raises(PerformError, match="two session folders"):
        record.run(_args(str(tmp_path / "a"), "--record", str(tmp_path / "b")))


def test_record_hands_over_to_live_with_record_set(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(record.live, "run", lambda a: seen.setdefault("args", a) and 0)
    args = _args(str(tmp_path / "take"), "setlists/demo.toml", "--record-video", "--source", "synthetic")
    assert record.run(args) == 0
    a = seen["args"]
    assert (a.record, a.setlist, a.record_video, a.source) == (str(tmp_path / "take"), "setlists/demo.toml", True,
                                                              "synthetic")
