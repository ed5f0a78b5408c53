"""`perform rehearse --session` renders the session's length, and says so when the setlist's differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from perform.engine.rehearsal import RehearseConfig, render_end_s, run_rehearse

DEMO_SESSION = Path(__file__).resolve().parents[2] / "setlists" / "sessions" / "demo"  # 20 s at 30 fps

SHORT = """
[show]
size = [48, 32]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "only"
seeds = [1]
duration = 2.0
mapping = []
"""


def test_the_rules():
    assert render_end_s(None, 2.0, 20.0, session=True)[0] == 20.0
    assert render_end_s(None, 30.0, 20.0, session=True)[0] == 20.0  # no face was recorded past the end
    assert render_end_s(None, 20.0, 20.0, session=True) == (20.0, None)
    assert render_end_s(5.0, 2.0, 20.0, session=True) == (5.0, None)
    assert render_end_s(None, 2.0, 20.0, session=False) == (2.0, None)  # a video is a face source: the setlist's
    assert render_end_s(None, None, 12.0, session=False) == (12.0, None)
    assert render_end_s(None, None, None, session=False) == (20.0, None)


@pytest.mark.gl
def test_a_session_longer_than_the_setlist_renders_whole_and_says_so(setlist_file, tmp_path, capsys):
    hashes = tmp_path / "hashes.txt"
    cfg = RehearseConfig(setlist=str(setlist_file(SHORT)), session=str(DEMO_SESSION), t_from=19.0, device="cpu",
                         hashes=str(hashes), inference="thread", progress=False)
    assert run_rehearse(cfg) == 0  # from 19 s: past the 2 s setlist, inside the 20 s session
    assert len(hashes.read_text().split()) == 30  # frames 570..599: the session's last second
    out = capsys.readouterr().out
    assert "session is 20.0 s" in out and "setlist 2.0 s" in out and "--to 2" in out
