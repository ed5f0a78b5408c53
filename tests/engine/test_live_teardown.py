"""What `perform live` opens before the show (OSC port, MIDI rig, sound card) is closed at the end, all of it."""

from __future__ import annotations

import socket

import pytest

from perform.engine import live_show
from perform.engine.live_show import LiveConfig


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _BrokenSoundCard:
    """A live audio input (there is no sound card here) whose close fails, as a vanished USB device's can."""

    def close(self) -> None:
        raise OSError("device unplugged")


def test_a_failing_close_leaves_the_osc_port_released(monkeypatch):
    port = _free_udp_port()
    monkeypatch.setattr(live_show, "open_live_input", lambda name: _BrokenSoundCard())
    monkeypatch.setattr(live_show, "_run_live", lambda *a, **k: 0)  # the show itself is not what is tested here
    with pytest.raises(OSError, match="device unplugged") as info:
        live_show.run_live(LiveConfig(osc_port=port, audio_in="usb"))
    assert info.traceback  # held, as a log record's exc_info would be: the garbage collector closes nothing here
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # raises EADDRINUSE while the show's OSC server still holds it
