"""MIDI ports through mido (python-rtmidi underneath): listing, finding one by part of its name, opening.

`MidoPorts` is the one place mido's port functions are called; MidiInput and MidiSender take any object
with the same four methods, so tests can hand them ports that behave like real ones on a machine with none.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from perform.errors import PerformError

log = logging.getLogger(__name__)


class Ports(Protocol):
    def input_names(self) -> list[str]: ...
    def output_names(self) -> list[str]: ...
    def open_input(self, name: str) -> Any: ...
    def open_output(self, name: str) -> Any: ...


class MidoPorts:
    """The system's MIDI ports. Listing never raises: a machine without a MIDI system (Linux without the ALSA
    sequencer, /dev/snd/seq) has no ports, and `problem` says why."""

    def __init__(self) -> None:
        self.problem = ""

    def input_names(self) -> list[str]:
        return self._names("get_input_names")

    def output_names(self) -> list[str]:
        return self._names("get_output_names")

    def _names(self, fn: str) -> list[str]:
        import mido  # only where MIDI is asked for: python-rtmidi loads the system's MIDI library

        try:
            names = list(getattr(mido, fn)())
        except Exception as e:  # rtmidi raises its own SystemError when ALSA or CoreMIDI is missing
            self.problem = f"{type(e).__name__}: {e}"
            return []
        self.problem = ""
        return names

    def open_input(self, name: str) -> Any:
        import mido

        return mido.open_input(name)

    def open_output(self, name: str) -> Any:
        import mido

        return mido.open_output(name)


def find_port(wanted: str, names: list[str]) -> str | None:
    """The port `wanted` names: an exact name, else the first whose name contains it (case ignored)."""
    if wanted in names:
        return wanted
    low = wanted.lower()
    return next((n for n in names if low in n.lower()), None)


def match_port(wanted: str, names: list[str], option: str, problem: str = "") -> str:
    """find_port, or PerformError listing the ports there are (a show must not start on a typo)."""
    found = find_port(wanted, names)
    if found is not None:
        return found
    what = "output" if "out" in option else "input"  # --midi-in, --monitor: inputs
    if names:
        listing = "; ".join(repr(n) for n in names)
        raise PerformError(f"{option} {wanted!r}: no MIDI {what} port has that in its name; the {what}s here: {listing}")
    why = f" ({problem})" if problem else ""
    raise PerformError(f"{option} {wanted!r}: there are no MIDI {what} ports on this machine{why}. "
                       f"Plug the device in, or on Linux check that the ALSA sequencer (/dev/snd/seq) exists; "
                       f"`perform midi --list` shows what is found")
