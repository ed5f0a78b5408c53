"""MidiSender: face features as CCs and scene changes as program changes (and notes) to a MIDI output.

The render loop only drops values into a latest-wins mailbox (features) and a small bounded queue (scenes);
a thread of its own sends them, at most `rate_hz` times a second and only the CCs whose 7-bit value changed
(a DIN MIDI cable carries about 1000 three-byte messages a second). A port that fails (the device unplugged)
is opened again in the background with backoff; nothing here can block or stop the show.

    CC FIRST_CC + i  feature i of FEATURE_NAMES, scaled from its range (FEATURE_RANGES) to 0..127
                     (yaw 20, pitch 21, roll 22, mouth_open 23, eye_open_left 24, eye_open_right 25,
                      brow_raise 26, face_x 27, face_y 28, face_size 29, presence 30)
    program change   scene index (from 0) when a scene starts, then note 36 + index on and off
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Mapping

from perform.control.midi_ports import MidoPorts, Ports, find_port, match_port
from perform.errors import Backoff
from perform.mailbox import Mailbox
from perform.tracking.observation import FEATURE_NAMES, FEATURE_RANGES

log = logging.getLogger(__name__)

FIRST_CC = 20  # CCs 20-31 are undefined in the MIDI spec: free for a program's own controls
SCENE_NOTE = 36


def feature_ccs(features: Mapping[str, float]) -> dict[int, int]:
    """{CC number: 0..127} for every face feature (missing ones at the bottom of their range)."""
    out = {}
    for i, name in enumerate(FEATURE_NAMES):
        lo, hi = FEATURE_RANGES[name]
        u = (float(features.get(name, lo)) - lo) / (hi - lo)
        out[FIRST_CC + i] = int(round(min(max(u, 0.0), 1.0) * 127))
    return out


class MidiSender:
    """Sends to the MIDI output whose name contains `wanted` (PerformError listing the outputs if none does).

    channel: 1..16. rate_hz: most feature updates a second.
    """

    def __init__(self, wanted: str, *, ports: Ports | None = None, channel: int = 1, rate_hz: float = 30.0,
                 backoff_s: tuple[float, float] = (0.5, 5.0)) -> None:
        self.wanted = wanted
        self.ports = ports or MidoPorts()
        self.channel = int(channel) - 1
        self.period_s = 1.0 / rate_hz
        self.backoff_s = backoff_s
        self.name = match_port(wanted, self.ports.output_names(), "--midi-out", getattr(self.ports, "problem", ""))
        self.sent = 0
        self.dropped = 0
        self.note = ""
        self.status = "waiting"
        self._features: Mailbox[dict[int, int]] = Mailbox()
        self._scenes: queue.Queue = queue.Queue(maxsize=64)
        self._scene: int | None = None
        self._closed = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="midi-out", daemon=True)
        self._thread.start()

    # -- the render loop: never waits ---------------------------------------------------------------------
    def send_face(self, features: Mapping[str, float], present: bool) -> None:
        self._features.put(feature_ccs(features))

    def send_scene(self, index: int, name: str = "") -> None:
        """A scene started (only changes are sent); a Conductor `on_scene` listener."""
        if index == self._scene:
            return
        self._scene = index
        try:
            self._scenes.put_nowait(int(index))
            self._wake.set()
        except queue.Full:
            self.dropped += 1

    # -- the sending thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        import mido

        port = None
        last: dict[int, int] = {}
        seen = 0
        backoff = Backoff(self.backoff_s)
        while not self._closed.is_set():
            if port is None:
                port = self._open()
                if port is None:
                    backoff.wait(self._closed)
                    continue
                backoff.ok()
                last, seen = {}, 0  # a reopened device knows nothing: send every value again, the newest at once
            t_next = time.monotonic() + self.period_s
            try:
                while True:
                    try:
                        index = self._scenes.get_nowait()
                    except queue.Empty:
                        break
                    msgs = [mido.Message("program_change", channel=self.channel, program=min(index, 127))]
                    if SCENE_NOTE + index <= 127:
                        msgs += [mido.Message("note_on", channel=self.channel, note=SCENE_NOTE + index, velocity=127),
                                 mido.Message("note_off", channel=self.channel, note=SCENE_NOTE + index, velocity=0)]
                    for m in msgs:
                        port.send(m)
                        self.sent += 1
                ccs, version = self._features.peek()
                if ccs is not None and version != seen:
                    seen = version
                    for cc, value in ccs.items():
                        if last.get(cc) != value:
                            port.send(mido.Message("control_change", channel=self.channel, control=cc, value=value))
                            last[cc] = value
                            self.sent += 1
            except Exception as e:  # the device went: drop it and open it again
                self._lost(port, f"{type(e).__name__}: {e}")
                port = None
                continue
            self._wake.wait(max(0.0, t_next - time.monotonic()))
            self._wake.clear()
        if port is not None:
            _close(port)
        self.status = "ended"

    def _open(self) -> Any:
        name = find_port(self.wanted, self.ports.output_names())
        if name is None:
            self._set_lost("not plugged in")
            return None
        try:
            port = self.ports.open_output(name)
        except Exception as e:
            self._set_lost(f"{type(e).__name__}: {e}")
            return None
        if self.status != "ok":
            log.warning("MIDI out: %s %s", name, "open" if self.status == "waiting" else "back")
        self.name, self.status, self.note = name, "ok", ""
        return port

    def _lost(self, port: Any, why: str) -> None:
        _close(port)
        self._set_lost(why)

    def _set_lost(self, why: str) -> None:
        if self.status != "lost":
            log.warning("MIDI out: %s lost (%s); retrying in the background", self.name, why)
        self.status = "lost"
        self.note = f"MIDI out lost: {self.wanted} ({why}); retrying"

    def hud_lines(self) -> list[str]:
        return [self.note] if self.note else [f"midi out {self.name}: {self.status}  {self.sent} sent"]

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=2.0)


def _close(port: Any) -> None:
    try:
        port.close()
    except Exception as exc:
        log.debug("MIDI out: close failed: %s", exc)
