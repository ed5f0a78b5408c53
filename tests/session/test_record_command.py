"""`perform record DIR` checks the folder before the show and hands over to `perform live --record DIR`."""

from __future__ import annotations

import argparse

import pytest

from perform.commands import live, record
from perform.errors import PerformError


def _parsed(command, argv: tuple[str, ...]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    command.add_arguments(p)
    return p.parse_args(list(argv))


def _args(*argv: str) -> argparse.Namespace:
    return _parsed(record, argv)


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


def _live_args(*argv: str) -> argparse.Namespace:
    return _parsed(live, argv)


def test_live_record_refuses_a_folder_holding_a_take_before_the_show(tmp_path):
    take = tmp_path / "tuesday"
    take.mkdir()
    manifest = take / "manifest.json"
    manifest.write_text('{"format": "perform-session", "frames": 600}')
    with pytest.raises(PerformError, match="already holds a recorded session.*--overwrite"):
        live.run(_live_args("--record", str(take), "--headless", "--source", "synthetic", "--frames", "1"))
    assert manifest.read_text() == '{"format": "perform-session", "frames": 600}'  # the earlier take is intact
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "setlist.txt").write_text("x")
    with pytest.raises(PerformError, match="other files"):
        live.run(_live_args("--record", str(tmp_path / "notes"), "--headless", "--source", "synthetic"))


def test_record_overwrite_lets_live_replace_a_take(tmp_path, monkeypatch):
    take = tmp_path / "tuesday"
    take.mkdir()
    (take / "manifest.json").write_text("{}")
    with pytest.raises(PerformError, match="already holds"):
        record.run(_args(str(take)))
    started = []
    monkeypatch.setattr("perform.engine.live_show.run_live", lambda cfg: started.append(cfg.record) or 0)
    assert record.run(_args(str(take), "--overwrite", "--headless", "--source", "synthetic")) == 0
    assert started == [str(take)]
