"""MIDI in: a port read on its own thread, its messages turned into ControlEvents posted to ControlState.

MIDI enters the show exactly as OSC does: `/perform/midi/...` events (osc_routes: held values the mappings
read as `midi.cc.<ch>.<n>` and so on; scene triggers), and the clock's `/perform/tempo` and `/perform/beat`
(midi_clock.py). So sessions record them and `rehearse` replays them frame-exactly.

A port that vanishes mid-show (a USB cable pulled) is retried like a camera (sources/camera.py): a supervisor
watches the reader and the port list, abandons a dead reader, and opens the port again in the background with
backoff, matching the name again (a device plugged back in may come back under another client number).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from perform.control.events import ControlEvent
from perform.control.midi_clock import MidiClock
from perform.control.midi_ports import MidoPorts, Ports, find_port, match_port
from perform.errors import Backoff

log = logging.getLogger(__name__)

ORIGIN = "midi"
PREFIX = "/perform/midi"


class MidiTranslator:
    """mido messages -> ControlEvents. One per input (it keeps the 14-bit pairs' halves and the clock).

    Channels are 1..16 in addresses. CC n < 32 followed by CC n + 32 is a 14-bit pair (MSB, LSB): once an LSB
    has been seen for n, n carries (MSB * 128 + LSB) / 16383 (an MSB alone resets the LSB to 0, as the MIDI
    spec says; a controller sends both together, so a frame sees the fine value), else MSB / 127. The LSB's
    own controller (n + 32) is posted too, as a 7-bit value, for controllers that use it alone.
    """

    def __init__(self, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.clock = MidiClock(origin)
        self._msb: dict[tuple[int, int], int] = {}
        self._fine: set[tuple[int, int]] = set()  # (channel, controller) seen with an LSB: 14-bit

    def __call__(self, msg: Any, t_s: float) -> list[ControlEvent]:
        kind = msg.type
        if kind == "clock":
            return self.clock.tick(t_s)
        if kind == "start":
            return self.clock.start(t_s)
        if kind == "stop":
            return self.clock.stop(t_s)
        if kind == "continue":
            return self.clock.resume(t_s)
        if kind == "songpos":
            self.clock.song_position(msg.pos)
            return []
        ch = getattr(msg, "channel", None)
        if ch is None:
            return []  # sysex, active sensing, ...: nothing to map
        ch += 1
        if kind == "note_on" or kind == "note_off":
            velocity = msg.velocity if kind == "note_on" else 0
            return [self._event(t_s, f"note/{ch}/{msg.note}", velocity / 127.0)]
        if kind == "control_change":
            return self._cc(t_s, ch, msg.control, msg.value)
        if kind == "pitchwheel":
            return [self._event(t_s, f"bend/{ch}", msg.pitch / (8192.0 if msg.pitch < 0 else 8191.0))]
        if kind == "program_change":
            return [self._event(t_s, f"program/{ch}", int(msg.program))]
        return []

    def _cc(self, t_s: float, ch: int, control: int, value: int) -> list[ControlEvent]:
        if control < 32:
            self._msb[(ch, control)] = value
            v = value * 128 / 16383.0 if (ch, control) in self._fine else value / 127.0
            return [self._event(t_s, f"cc/{ch}/{control}", v)]
        out = []
        if control < 64 and (ch, control - 32) in self._msb:
            pair = (ch, control - 32)
            self._fine.add(pair)
            out.append(self._event(t_s, f"cc/{ch}/{control - 32}", (self._msb[pair] * 128 + value) / 16383.0))
        out.append(self._event(t_s, f"cc/{ch}/{control}", value / 127.0))
        return out

    def _event(self, t_s: float, path: str, value: float | int) -> ControlEvent:
        return ControlEvent(t_s, f"{PREFIX}/{path}", (value,), self.origin)


class _Reader:
    """One open port's life: open it, receive until told to stop or it fails. A daemon thread; an abandoned
    reader blocked in receive() is never joined (if it ever returns it sees `stop` and closes its port)."""

    def __init__(self, owner: "MidiInput", name: str, generation: int) -> None:
        self.owner = owner
        self.name = name
        self.stop = threading.Event()
        self.opened = False
        self.failed: str | None = None
        self.port: Any = None
        self.thread = threading.Thread(target=self._run, name=f"midi-in{generation}", daemon=True)

    def _run(self) -> None:
        try:
            self.port = self.owner.ports.open_input(self.name)
            if self.stop.is_set():
                return
            self.opened = True
            self.owner._opened(self)
            while not self.stop.is_set():
                msg = self.port.receive()  # blocks; a port closed under it raises (mido: OSError)
                if self.stop.is_set():
                    break
                self.owner._deliver(self, msg, self.owner.clock())
        except Exception as exc:  # a driver error must not escape the thread; the supervisor reopens
            if not self.stop.is_set():
                self.failed = f"{type(exc).__name__}: {exc}"
        finally:
            self.close()

    def close(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            try:
                port.close()  # also wakes a receive() blocked in another thread, for mido's own ports
            except Exception as exc:
                log.debug("midi in %s: close failed: %s", self.name, exc)

    def abandon(self) -> None:
        self.stop.set()
        self.close()


class MidiInput:
    """Reads the MIDI input whose name contains `wanted` (PerformError listing the ports if none does) and posts
    its events to `control` (a ControlState), stamped on its clock as they arrive.

    check_s: how often the port list is read to notice a vanished port (a vanished rtmidi port just goes quiet).
    backoff_s: (first, max) wait between attempts to open it again; doubles each failed attempt.
    """

    def __init__(self, wanted: str, control: Any, *, ports: Ports | None = None,
                 clock: Callable[[], float] | None = None, check_s: float = 1.0,
                 backoff_s: tuple[float, float] = (0.5, 5.0), open_timeout_s: float = 5.0) -> None:
        self.wanted = wanted
        self.control = control
        self.ports = ports or MidoPorts()
        self.clock = clock or control.now
        self.check_s = check_s
        self.backoff_s = backoff_s
        self.open_timeout_s = open_timeout_s
        self.name = match_port(wanted, self.ports.input_names(), "--midi-in", getattr(self.ports, "problem", ""))
        self.translate = MidiTranslator()
        self.messages = 0
        self.reconnects = 0
        self.note = ""  # for the HUD while the port is lost
        self._status = "waiting"
        self._changed = threading.Condition()
        self._lock = threading.Lock()
        self._reader: _Reader | None = None
        self._closed = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="midi-in-watchdog", daemon=True)
        self._supervisor.start()

    @property
    def status(self) -> str:
        """waiting (opening), ok, lost (retrying), ended."""
        return self._status

    def wait_status(self, status: str, timeout_s: float) -> bool:
        """Block until the status is `status` (for tests and start-up); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._status == status, timeout_s)

    def _set_status(self, status: str, why: str = "") -> None:
        with self._changed:
            if status == self._status:
                return
            previous, self._status = self._status, status
            self.note = f"MIDI in lost: {self.wanted} ({why}); retrying" if status == "lost" else ""
            self._changed.notify_all()
        if status == "ok":
            log.warning("MIDI in: %s %s", self.name, "open" if previous == "waiting" else "back")
        elif status == "lost":
            log.warning("MIDI in: %s lost (%s); retrying in the background", self.name, why)

    def _opened(self, reader: _Reader) -> None:
        with self._lock:
            if reader is self._reader:
                self.name = reader.name
        self._set_status("ok")

    def _deliver(self, reader: _Reader, msg: Any, t_s: float) -> None:
        with self._lock:  # one translator: an abandoned reader that woke up late is ignored
            if reader is not self._reader:
                return
            self.messages += 1
            events = self.translate(msg, t_s)
        for e in events:
            self.control.post(e)

    def _why(self, reader: _Reader, now: float, t_open: float, listed: bool) -> str | None:
        if reader.failed:
            return reader.failed
        if not reader.opened:
            return f"opening took over {self.open_timeout_s:.1f} s" if now - t_open > self.open_timeout_s else None
        return None if listed else "the port is gone"

    def _supervise(self) -> None:
        backoff = Backoff(self.backoff_s)
        generation = 0
        while not self._closed.is_set():
            name = find_port(self.wanted, self.ports.input_names()) if generation else self.name
            if name is None:
                why = "not plugged in"
            else:
                generation += 1
                reader = _Reader(self, name, generation)
                with self._lock:
                    self._reader = reader
                t_open = time.monotonic()
                reader.thread.start()
                why = None
                next_check = t_open + self.check_s
                while not self._closed.is_set():
                    self._closed.wait(min(0.05, self.check_s))
                    now = time.monotonic()
                    listed = True
                    if now >= next_check:
                        next_check = now + self.check_s
                        listed = find_port(name, self.ports.input_names()) == name
                    why = self._why(reader, now, t_open, listed)
                    if why:
                        break
                    if reader.opened:
                        backoff.ok()
                with self._lock:
                    self._reader = None
                reader.abandon()
                if self._closed.is_set():
                    break
            self._set_status("lost", why or "")
            self.reconnects += 1
            backoff.wait(self._closed)
        self._set_status("ended")

    def hud_lines(self) -> list[str]:
        if self.note:
            return [self.note]
        return [f"midi in {self.name}: {self._status}  {self.messages} msgs"]

    def close(self) -> None:
        self._closed.set()
        self._supervisor.join(timeout=2.0)
        self._set_status("ended")
