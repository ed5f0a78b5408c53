"""VideoFileSource and open_source on real files written with PyAV."""

import av
import numpy as np
import pytest

from perform.errors import PerformError
from perform.sources.factory import open_source, parse_spec
from perform.sources.synthetic import SyntheticSource
from perform.sources.video import VideoFileSource


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "ramp.mp4"
    out = av.open(str(path), "w")
    st = out.add_stream("libx264", rate=30)
    st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
    for i in range(45):  # frame i has grey level 5 i: readable back despite compression
        for p in st.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 5 * i, np.uint8), format="rgb24")):
            out.mux(p)
    for p in st.encode():
        out.mux(p)
    out.close()
    return path


def _level(frame):
    return int(round(frame.image.mean() / 5))


def test_frame_at_is_exact_forwards_backwards_and_ends(clip):
    v = VideoFileSource(clip)
    assert v.fps == 30 and v.size == (64, 48)
    for n in [0, 1, 2, 15, 7, 44, 3, 30]:
        assert _level(v.frame_at(n / 30, n)) == n
    assert v.frame_at(45 / 30, 45) is None and v.status == "ended"
    assert _level(v.frame_at(0.0, 0)) == 0 and v.status == "ok"
    v.close()


def test_loop_wraps(clip):
    v = VideoFileSource(clip, loop=True)
    assert _level(v.frame_at(47 / 30, 47)) == 2
    v.close()


def test_live_read_gives_frames_in_order_then_ends(clip):
    v = open_source(str(clip), size=(1, 1), fps=99)  # options for other kinds are ignored
    levels = []
    while (f := v.read(1.0)) is not None:
        levels.append(_level(f))
    # on the live clock a late reader skips ahead (a loaded machine may), but never repeats or goes back
    assert levels[0] == 0 and levels[-1] == 44 and all(a < b for a, b in zip(levels, levels[1:]))
    assert v.status == "ended"
    v.close()


def test_bad_files_name_themselves(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 50)
    with pytest.raises(PerformError, match="broken.mp4"):
        VideoFileSource(bad)
    with pytest.raises(PerformError, match="missing.mp4"):
        VideoFileSource(tmp_path / "missing.mp4")
    with pytest.raises(PerformError, match="no such file"):
        open_source(str(tmp_path / "missing.mp4"))


def test_specs():
    assert parse_spec("synthetic") == ("synthetic", None)
    assert parse_spec("synthetic:7") == ("synthetic", 7)
    assert parse_spec("camera:2") == ("camera", 2) and parse_spec("1") == ("camera", 1)
    assert parse_spec("camera") == ("camera", 0)  # what `perform live --help` shows as the default
    with pytest.raises(PerformError, match="camera:N"):
        parse_spec("camera:x")
    src = open_source("synthetic:5", size=(32, 24), fps=10)
    assert isinstance(src, SyntheticSource) and src.size == (32, 24) and src.fps == 10
    with pytest.raises(PerformError, match="unknown source option"):
        open_source("synthetic", colour=1)
