"""MIDI ports that behave like real ones on a machine with no MIDI system (no ALSA sequencer here).

QueuePort is a mido input port: raw MIDI bytes go through mido's own parser, receive() blocks until a
message comes, and closing it (as a driver does when the device is unplugged) makes a blocked receive()
raise. FakePorts lists and opens them like MidoPorts; `unplug` and `plug` make a device vanish and return.
"""

from __future__ import annotations

import queue
import threading

import mido
from mido.ports import BaseInput, BaseOutput


class QueuePort(BaseInput):
    """A mido input port fed with raw bytes (`feed`), parsed by mido as a real port's bytes are."""

    def __init__(self, name: str) -> None:
        self._bytes: queue.Queue = queue.Queue()
        super().__init__(name)

    def feed(self, *messages: mido.Message | bytes) -> None:
        for m in messages:
            self._bytes.put(bytes(m.bytes()) if isinstance(m, mido.Message) else bytes(m))

    def _receive(self, block=True):
        # called by BaseInput.receive() under the port's lock, which it drops between calls; a short wait
        # here keeps close() from another thread prompt, as it is on mido's polling backends
        try:
            data = self._bytes.get(timeout=0.01) if block else self._bytes.get_nowait()
        except queue.Empty:
            return None
        self._parser.feed(data)
        return None  # BaseInput.receive() returns the parsed message from its queue


class ListPort(BaseOutput):
    """A mido output port that keeps what is sent; `fail` makes send() raise, as a vanished device does."""

    def __init__(self, name: str) -> None:
        self.sent: list[mido.Message] = []
        self.fail = False
        self.got = threading.Condition()
        super().__init__(name)

    def _send(self, msg):
        if self.fail:
            raise OSError("device gone")
        with self.got:
            self.sent.append(msg)
            self.got.notify_all()

    def wait_for(self, predicate, timeout_s: float = 5.0) -> bool:
        with self.got:
            return self.got.wait_for(lambda: predicate(self.sent), timeout_s)


class FakePorts:
    """MidoPorts' four methods over QueuePorts and ListPorts, with devices that can vanish and come back."""

    def __init__(self, inputs=(), outputs=()) -> None:
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.opened: dict[str, list] = {}
        self.opened_cv = threading.Condition()
        self.problem = ""

    def input_names(self) -> list[str]:
        return list(self.inputs)

    def output_names(self) -> list[str]:
        return list(self.outputs)

    def open_input(self, name: str) -> QueuePort:
        if name not in self.inputs:
            raise OSError(f"unknown port {name!r}")
        return self._opened(name, QueuePort(name))

    def open_output(self, name: str) -> ListPort:
        if name not in self.outputs:
            raise OSError(f"unknown port {name!r}")
        return self._opened(name, ListPort(name))

    def _opened(self, name, port):
        with self.opened_cv:
            self.opened.setdefault(name, []).append(port)
            self.opened_cv.notify_all()
        return port

    def latest(self, name: str, count: int = 1, timeout_s: float = 5.0):
        """The port opened `count`-th for `name`, once it has been opened."""
        with self.opened_cv:
            assert self.opened_cv.wait_for(lambda: len(self.opened.get(name, [])) >= count, timeout_s)
            return self.opened[name][count - 1]

    def unplug(self, name: str) -> None:
        """The device goes: its name leaves the list and its open ports close under their readers."""
        for names in (self.inputs, self.outputs):
            if name in names:
                names.remove(name)
        for port in self.opened.get(name, []):
            if isinstance(port, ListPort):
                port.fail = True
            else:
                port.close()

    def plug(self, name: str, output: bool = False) -> None:
        (self.outputs if output else self.inputs).append(name)
