"""The rig around a live show: MIDI in (and its clock), MIDI learn, MIDI out, Ableton Link.

Opened before the slow setup (an unknown port name is the user's to fix, said at once), wired into the live
run through the hooks it already has (a program wrapper, scene listeners, the frame hook, HUD lines), closed
with the show.
Each part runs on its own thread and only posts to ControlState or reads the plan it is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from perform.control.events import ControlEvent
from perform.control.learn import MidiLearn
from perform.control.link import LinkClock
from perform.control.midi_in import MidiInput
from perform.control.midi_out import MidiSender

log = logging.getLogger(__name__)


@dataclass
class MidiRig:
    midi_in: Any = None     # control.midi_in.MidiInput
    midi_out: Any = None    # control.midi_out.MidiSender
    learn: Any = None       # control.learn.MidiLearn
    link: Any = None        # control.link.LinkClock
    parts: list = field(default_factory=list)

    @classmethod
    def open(cls, control: Any, *, midi_in: str | None = None, midi_out: str | None = None, link: bool = False,
             setlist_path: str | None = None) -> "MidiRig":
        """Open what the options ask for; PerformError (nothing left open) for a port that is not there."""
        rig = cls()
        try:
            if midi_in:
                rig.midi_in = MidiInput(midi_in, control)
            if midi_out:
                rig.midi_out = MidiSender(midi_out)
            if link:
                rig.link = LinkClock(control)
            if setlist_path and midi_in:  # learning needs a setlist file to write and a MIDI control to move
                rig.learn = MidiLearn(setlist_path)
        except BaseException:
            rig.close()
            raise
        rig.parts = [p for p in (rig.midi_in, rig.midi_out, rig.link, rig.learn) if p is not None]
        return rig

    def start(self, tempo_bpm: float) -> None:
        """Once the show is built: Link starts posting, proposing the setlist's tempo if it is alone."""
        if self.link is not None:
            self.link.start(tempo_bpm)

    def wrap(self, program: Any) -> Any:
        """The program the live clock steps: learning sees its events (keys, OSC, MIDI) on the way."""
        return LearningProgram(program, self.learn) if self.learn is not None else program

    def on_scene(self) -> list:
        """The conductor's scene listeners (index, name) this rig adds: MIDI out's, which never waits."""
        return [self.midi_out.send_scene] if self.midi_out is not None else []

    def on_frame(self, plan: Any, face: Any) -> None:
        """After each drawn frame (render thread): hands the newest face features to MIDI out; never waits."""
        if self.midi_out is not None and face is not None:
            self.midi_out.send_face(face.features, face.present)

    def hud_lines(self) -> list[str]:
        lines: list[str] = []
        for part in self.parts:
            lines.extend(part.hud_lines())
        return lines

    def close(self) -> None:
        for part in (self.midi_in, self.midi_out, self.link, self.learn):
            if part is not None:
                try:
                    part.close()
                except Exception as exc:  # closing one part must not keep the others open
                    log.warning("closing %s failed: %s", type(part).__name__, exc)


class LearningProgram:
    """Wraps a conductor (engine.stages.Program): MIDI learn sees every event it is given, with the scene shown."""

    def __init__(self, program: Any, learn: Any) -> None:
        self._program = program
        self._learn = learn

    def step(self, t_s: float, index: int, face: Any, events: list[ControlEvent], source_status: str) -> Any:
        plan = self._program.step(t_s, index, face, events, source_status)
        if events:
            self._learn.observe(events, self._program)
        return plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._program, name)
