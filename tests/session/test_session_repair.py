"""A recording that never closed (killed, power cut) replays up to its last flush; the reader says what it repaired.

A copy of the folder taken while the recorder runs is exactly what a power cut at that instant leaves behind.
"""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.errors import PerformError
from perform.session import SessionRecorder, load_session
from perform.session import format as fmt
from perform.tracking.observation import FEATURE_NAMES, FaceObservation

FPS = 30.0


def _face(i: int) -> FaceObservation:
    crop = np.full((64, 64, 3), (i * 8) % 256, np.uint8)  # each row's crop is told apart by its grey level
    return FaceObservation(i / FPS, i, True, {n: 0.25 for n in FEATURE_NAMES}, np.full((478, 3), i / 100, np.float32),
                           crop)


def _wait_for_flush(d, rows: int) -> None:
    """Until the manifest says `rows` face rows are on disk (event-driven by the writer's flush, guarded)."""
    done = threading.Event()
    for _ in range(600):
        try:
            if json.loads((d / fmt.MANIFEST).read_text())["frames"] >= rows:
                return
        except (OSError, ValueError, KeyError):
            pass
        done.wait(0.05)
    pytest.fail(f"{rows} rows were never flushed")


@pytest.fixture
def snapshot(tmp_path):
    """(copy of a recording 45 rows in, the recorder's closed folder)."""
    d = tmp_path / "live"
    rec = SessionRecorder(d, fps=FPS, origin_s=0.0)
    for i in range(45):
        rec.add_face(_face(i))
        rec.add_event(ControlEvent(i / FPS, "/perform/latent/0", (i / 45,), "osc"))
    _wait_for_flush(d, 45)
    copy = tmp_path / "copy"
    shutil.copytree(d, copy)  # the power goes now
    for i in range(45, 60):
        rec.add_face(_face(i))
    assert rec.close().state == "closed"
    return copy, d


def test_an_unclosed_recording_replays_what_was_flushed(snapshot):
    copy, closed = snapshot
    assert json.loads((copy / fmt.MANIFEST).read_text())["complete"] is False
    s = load_session(copy)
    assert s.repairs and "did not close" in s.repairs[0]
    assert not s.manifest.complete
    # the newest crop is still in the muxer (it writes a frame when the next arrives): one row at most is lost
    assert len(s.faces) in (44, 45)
    n = len(s.faces)
    full = load_session(closed)
    assert full.manifest.complete and full.repairs == () and len(full.faces) == 60
    np.testing.assert_array_equal(s.faces.t_s, full.faces.t_s[:n])
    np.testing.assert_array_equal(s.faces.features, full.faces.features[:n])
    np.testing.assert_array_equal(s.faces.landmarks, full.faces.landmarks[:n])
    assert np.abs(s.faces.crops.astype(int) - full.faces.crops[:n].astype(int)).max() <= 2
    assert [e.args for e in s.events()] == [(i / 45,) for i in range(45)]
    assert s.frame_count == 45  # the last event, at 44/30 s, plus one frame


def test_cut_off_lines_and_a_cut_video_are_repaired_and_reported(snapshot):
    copy, _ = snapshot
    for name in (fmt.FACE_ROWS, fmt.EVENTS):
        p = copy / name
        p.write_bytes(p.read_bytes()[:-7])  # the write the crash interrupted
    crops = copy / fmt.CROPS
    crops.write_bytes(crops.read_bytes()[: crops.stat().st_size * 2 // 3])
    s = load_session(copy)
    said = "\n".join(s.repairs)
    assert f"{fmt.FACE_ROWS}: a cut-off last line" in said and f"{fmt.EVENTS}: a cut-off last line" in said
    assert "last row(s) left out" in said
    assert 20 <= len(s.faces) < 44 and len(s.faces.crops) == len(s.faces)
    assert len(s.events()) == 44
    grey = s.faces.crops[:, 32, 32, 0].astype(int)  # the prefix is the right frames, in order
    assert np.abs(grey - (np.arange(len(s.faces)) * 8) % 256).max() <= 2


def test_a_closed_session_is_not_silently_repaired(snapshot):
    _, closed = snapshot
    p = closed / fmt.EVENTS
    p.write_bytes(p.read_bytes()[:-7])
    with pytest.raises(PerformError, match="line 45 is cut off"):
        load_session(closed)
