"""`perform rehearse --preview`: the fixed clock in a real window (pygame under Xvfb, Mesa's GL), at real time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gl

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
[show]
size = [96, 64]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "a"
seeds = [1]
duration = 0.5
mapping = []
[[scene]]
name = "b"
seeds = [2]
duration = "hold"
mapping = []
"""


@pytest.mark.parametrize("egl", [False, True], ids=["glx", "egl"])
def test_rehearse_preview_plays_the_show_in_a_window_and_ends_at_to(setlist_file, xvfb_env, egl):
    env = dict(xvfb_env, PYTHONUNBUFFERED="1")
    if egl:
        env["SDL_VIDEO_X11_FORCE_EGL"] = "1"  # the window's GL context through EGL, as on Wayland and most GPUs
    r = subprocess.run([sys.executable, "-m", "perform", "rehearse", str(setlist_file(SHOW)), "--preview",
                        "--synthetic", "--to", "1", "--inference", "thread"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    assert "perform rehearse --preview" in r.stdout
    drawn = re.search(r"^\s+frame\s+(\d+)\s", r.stdout, re.M)
    assert drawn and int(drawn.group(1)) == 30, r.stdout  # every frame up to --to 1 s, shown once, then it ended


def test_rehearse_preview_streams_what_the_window_shows_upright_without_the_hud(setlist_file, xvfb_env, tmp_path):
    import av
    import numpy as np

    from tests.outputs.conftest import UDPReceiver

    show = setlist_file(SHOW)
    reference = tmp_path / "ref.mp4"  # the same frames rendered headless: image order, no window involved
    r = subprocess.run([sys.executable, "-m", "perform", "rehearse", str(show), "--synthetic", "--to", "1",
                        "--inference", "thread", "--out", str(reference), "--no-progress"],
                       cwd=ROOT, env=xvfb_env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    with av.open(str(reference)) as c:
        expected = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][-1].astype(np.int16)
    rx = UDPReceiver()
    try:
        r = subprocess.run([sys.executable, "-m", "perform", "rehearse", str(show), "--preview", "--synthetic", "--to",
                            "1", "--inference", "thread", "--out-stream", rx.url],
                           cwd=ROOT, env=dict(xvfb_env, PYTHONUNBUFFERED="1"), capture_output=True, text=True,
                           timeout=180)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
        got = rx.frames()
    finally:
        rx.close()
    assert len(got) >= 15 and got[-1].shape == (64, 96, 3)
    last = got[-1].astype(np.int16)
    assert np.abs(last - expected).mean() < 6  # the window's picture, upright, with no HUD text over it
    assert np.abs(last[::-1] - expected).mean() > 2 * np.abs(last - expected).mean()
