"""NDI out, sent and received for real on this machine (cyndilib carries the NDI runtime); skipped without the extra.

Discovery normally goes through mDNS (avahi on Linux); a config naming 127.0.0.1 lets the finder ask this machine
directly, so the test needs no daemon."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

cyndilib = pytest.importorskip("cyndilib", reason="the [ndi] extra (cyndilib) is not installed")


@pytest.fixture
def ndi_local(tmp_path, monkeypatch):
    (tmp_path / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
    monkeypatch.setenv("NDI_CONFIG_DIR", str(tmp_path))


def test_a_frame_sent_over_ndi_is_received_with_its_size_and_colour(ndi_local):
    from cyndilib.finder import Finder
    from cyndilib.receiver import Receiver
    from cyndilib.video_frame import VideoFrameSync
    from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

    from perform.outputs.optional import NDISink

    sink = NDISink("perform-test", (64, 48), 30)
    sink.open()
    finder = Finder()
    finder.open()
    receiver = None
    try:
        source = None
        end = time.monotonic() + 15.0
        while source is None and time.monotonic() < end:
            finder.wait_for_sources(0.5)
            source = next((finder.get_source(n) for n in finder.get_source_names() if "perform-test" in n), None)
        assert source is not None, "the NDI source was not found"
        receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
        video = VideoFrameSync()
        receiver.frame_sync.set_video_frame(video)
        receiver.set_source(source)
        img = np.zeros((48, 64, 3), np.uint8)
        img[..., 0] = 200
        got = None
        end = time.monotonic() + 15.0
        while got is None and time.monotonic() < end:
            sink.send(img)
            receiver.frame_sync.capture_video()
            if video.get_resolution()[0] == 64:
                got = video.get_array().reshape(48, 64, 4)
            time.sleep(1 / 30)  # NDI paces delivery: a frame every 1/30 s, like a show
        assert got is not None, "no frame received"
        assert got[..., 0].mean() == pytest.approx(200, abs=6) and got[..., 1].mean() < 6  # red, through a codec
    finally:
        if receiver is not None:
            receiver.disconnect()
        finder.close()
        sink.close()
