"""A damaged or foreign session folder gives a clear PerformError naming the file and the problem."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.errors import PerformError
from perform.session import SessionRecorder, load_session
from perform.session import format as fmt
from perform.session.recorder import check_session_dir
from perform.tracking.observation import FEATURE_NAMES, FaceObservation


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("good") / "s"
    rec = SessionRecorder(d, fps=30.0, origin_s=0.0)
    rng = np.random.default_rng(1)
    for i in range(10):
        crop = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
        rec.add_face(FaceObservation(i / 30, i, True, {n: 0.5 for n in FEATURE_NAMES},
                                     rng.uniform(0, 1, (478, 3)).astype(np.float32), crop))
        rec.add_event(ControlEvent(i / 30, f"/perform/latent/{i}", (float(i),), "osc"))
    assert rec.close().state == "closed"
    load_session(d)  # the fixture itself is sound
    return d


@pytest.fixture
def copy(good, tmp_path):
    d = tmp_path / "s"
    shutil.copytree(good, d)
    return d


def _error(d) -> str:
    with pytest.raises(PerformError) as e:
        load_session(d)
    return str(e.value)


def test_missing_manifest_names_it_and_says_incomplete(copy):
    (copy / fmt.MANIFEST).unlink()
    msg = _error(copy)
    assert "manifest.json" in msg and "did not finish" in msg


def test_not_a_folder(tmp_path):
    assert "no such session folder" in _error(tmp_path / "nope")


def test_truncated_npz(copy):
    p = copy / fmt.FACES
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    msg = _error(copy)
    assert "faces.npz" in msg and "truncated or corrupt" in msg


def test_missing_crops(copy):
    (copy / fmt.CROPS).unlink()
    msg = _error(copy)
    assert "crops.mp4" in msg and "missing" in msg


def test_truncated_crops(copy):
    p = copy / fmt.CROPS
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    msg = _error(copy)
    assert "crops.mp4" in msg


def test_truncated_events_last_line(copy):
    p = copy / fmt.EVENTS
    text = p.read_text()
    p.write_text(text[: len(text) - 12])  # cut inside the last line
    msg = _error(copy)
    assert "events.jsonl" in msg and "line 10" in msg and "cut off" in msg


def test_bad_event_line_in_the_middle(copy):
    p = copy / fmt.EVENTS
    lines = p.read_text().splitlines(keepends=True)
    lines[3] = '{"t_s": "soon", "address": "/x", "args": []}\n'
    p.write_text("".join(lines))
    msg = _error(copy)
    assert "events.jsonl: line 4" in msg and "'t_s'" in msg


def test_newer_format_version(copy):
    p = copy / fmt.MANIFEST
    data = json.loads(p.read_text())
    data["format_version"] = 2
    p.write_text(json.dumps(data))
    msg = _error(copy)
    assert "manifest.json" in msg and "format_version 2" in msg and "newer" in msg


def _rewrite_faces(d, change) -> None:
    p = d / fmt.FACES
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez_compressed(p, **change(arrays))


def test_inconsistent_lengths(copy):
    _rewrite_faces(copy, lambda a: {**a, "present": a["present"][:-1]})
    msg = _error(copy)
    assert "faces.npz" in msg and "'present'" in msg and "inconsistent" in msg


def test_crop_count_must_match_rows(copy):
    _rewrite_faces(copy, lambda a: {k: (v[:-2] if k != "feature_names" else v) for k, v in a.items()})
    m = json.loads((copy / fmt.MANIFEST).read_text())
    m["frames"] = 8
    (copy / fmt.MANIFEST).write_text(json.dumps(m))
    msg = _error(copy)
    assert "crops.mp4" in msg and "10 frames" in msg and "8 rows" in msg


def test_manifest_key_errors_name_the_key(copy):
    p = copy / fmt.MANIFEST
    data = json.loads(p.read_text())
    data["fps"] = "thirty"
    p.write_text(json.dumps(data))
    assert "'fps'" in _error(copy)
    p.write_text("{not json")
    assert "not valid JSON" in _error(copy)


def test_check_session_dir_before_the_show(good, tmp_path):
    with pytest.raises(PerformError, match="already holds a recorded session"):
        check_session_dir(good)
    assert check_session_dir(good, overwrite=True) == good
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(PerformError, match="is a file"):
        check_session_dir(f / "session")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(PerformError, match="other files"):
        check_session_dir(tmp_path / "other")
    assert check_session_dir(tmp_path / "new" / "deep") == tmp_path / "new" / "deep"
