"""`perform live` with video outputs: frames go out over UDP and to other sinks without the HUD, and neither a
receiver that disappears nor an output stuck in its driver holds the render loop back."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

from perform.engine.live_show import LiveConfig, run_live
from perform.outputs.options import OutputOptions
from tests.outputs.conftest import BlockingSink, UDPReceiver
from tests.engine.shows import one_scene

pytestmark = pytest.mark.gl

SHOW = one_scene(size="[64, 48]", drive="latent", seeds="[1, 2]", walk="0.5", saturation=None)


class KeepingSink:
    name = "keep"

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def open(self) -> None:
        pass

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        pass


def test_outputs_that_fail_or_block_never_hold_the_show_back(setlist_file, capsys):
    rx = UDPReceiver()
    gone = threading.Event()

    def receive_then_vanish():  # a player that quits a moment into the show
        rx.sock.settimeout(10.0)
        try:
            for _ in range(20):
                rx.datagrams.append(rx.sock.recv(65536))
        except OSError:
            pass
        rx.close()
        gone.set()

    t = threading.Thread(target=receive_then_vanish, daemon=True)
    t.start()
    stuck, keep = BlockingSink(), KeepingSink()
    cfg = LiveConfig(setlist=str(setlist_file(SHOW)), source="synthetic", track=False, headless=True, frames=60,
                     fps=30.0, osc_port=0, inference="thread",
                     outputs=OutputOptions(stream=(rx.url,), extra=(stuck, keep)))
    try:
        assert run_live(cfg) == 0
    finally:
        stuck.release.set()
        t.join(10)
    out = capsys.readouterr().out
    assert "perform live: 60 frames" in out  # every tick drawn, though one output was stuck all along
    assert gone.is_set() and len(rx.datagrams) == 20  # the receiver did go away mid-show
    sent = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"(\w+(?: udp://\S+)?) sent (\d+) dropped (\d+)", out)}
    assert sent["stuck"][0] == 0 and sent["stuck"][1] >= 50  # all its frames but the one it sits on: dropped
    assert sent[f"stream {rx.url}"][0] >= 30  # the stream kept sending after its receiver left
    assert len(keep.frames) >= 30 and keep.frames[-1].shape == (48, 64, 3)
    assert len({f.tobytes() for f in keep.frames}) > 1  # the show's frames, moving
