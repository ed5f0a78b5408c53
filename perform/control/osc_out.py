"""OSCSender: face features, state changes and replies out to other programs, never blocking the loop.

One non-blocking UDP socket; a datagram the OS will not take now is counted and dropped, so a
vanished receiver or a full buffer cannot stall or crash the render loop.
"""

from __future__ import annotations

import logging
import socket
from typing import Iterable, Mapping

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

from perform.control.osc_codec import build_message, encode_message
from perform.control.stats import ControlCounters
from perform.tracking.observation import FEATURE_NAMES

log = logging.getLogger(__name__)

FACE_PREFIX = "/perform/face"
STATE_PREFIX = "/perform/state"


class OSCSender:
    """Sends to every (host, port) in `targets`.

    Per frame: `send_face(features, present)` -> one bundle of /perform/face/<feature> f for every
    name of FEATURE_NAMES plus /perform/face/present i. On change: `send_scene(index, name)` ->
    /perform/state/scene i s. Once a second at most: `send_fps(now_s, fps)` -> /perform/state/fps f.
    """

    def __init__(self, targets: Iterable[tuple[str, int]], counters: ControlCounters | None = None,
                 fps_interval_s: float = 1.0) -> None:
        self.targets = [(str(h), int(p)) for h, p in targets]
        self.counters = counters or ControlCounters(log, "outgoing OSC datagram")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._fps_interval_s = fps_interval_s
        self._fps_next_s = float("-inf")
        self._scene: tuple[int, str] | None = None
        self._closed = False

    def send_face(self, features: Mapping[str, float], present: bool) -> None:
        """One bundle per frame with every face feature (missing ones sent as 0)."""
        b = OscBundleBuilder(IMMEDIATELY)
        for name in FEATURE_NAMES:
            b.add_content(build_message(f"{FACE_PREFIX}/{name}", (float(features.get(name, 0.0)),)))
        b.add_content(build_message(f"{FACE_PREFIX}/present", (int(bool(present)),)))
        self._send(b.build().dgram, FACE_PREFIX)

    def send_scene(self, index: int, name: str) -> bool:
        """/perform/state/scene index name, only when it changed; True if sent."""
        if self._scene == (index, name):
            return False
        self._scene = (index, name)
        self.send(f"{STATE_PREFIX}/scene", int(index), str(name))
        return True

    def send_fps(self, now_s: float, fps: float) -> bool:
        """/perform/state/fps, at most once per `fps_interval_s`; True if sent."""
        if now_s < self._fps_next_s:
            return False
        self._fps_next_s = now_s + self._fps_interval_s
        self.send(f"{STATE_PREFIX}/fps", float(fps))
        return True

    def send(self, address: str, *args) -> None:
        """Any one message to every target."""
        self._send(encode_message(address, args), address)

    def _send(self, data: bytes, what: str) -> None:
        if self._closed:
            return
        for target in self.targets:
            try:
                self._sock.sendto(data, target)
                self.counters.add("sent")
            except Exception as e:  # BlockingIOError (buffer full), ConnectionRefused after ICMP, bad host
                self.counters.drop("send_failed", f"{what} to {target[0]}:{target[1]}: {e}")

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def __enter__(self) -> "OSCSender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
