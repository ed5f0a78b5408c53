"""The stages' protocols as both clocks see them: tracker, program (the conductor), presenter, event and face input.

The messages between the stages are in plan.py; the clocks (live_clock.py, fixed_clock.py) call these.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from perform.control.events import ControlEvent
from perform.engine.plan import FramePlan, Generated
from perform.sources.frame import Frame
from perform.tracking.observation import FaceObservation

# the index of the blank frame a tracker is fed when no camera frame came: never a camera frame to record
NO_FRAME_INDEX = -1
_BLANK = np.zeros((32, 32, 3), np.uint8)


class Tracker(Protocol):
    def process(self, frame: Frame) -> FaceObservation: ...
    def close(self) -> None: ...


def no_face(tracker: Tracker, t_s: float) -> FaceObservation:
    """What the tracker says when no frame arrives: a blank frame runs its usual fade-out of the face."""
    return tracker.process(Frame(_BLANK, t_s, NO_FRAME_INDEX))


def is_blank(frame: Frame) -> bool:
    """The stand-in no_face() feeds a tracker, not a frame from the source."""
    return frame.index == NO_FRAME_INDEX


class Program(Protocol):
    """Turns (time, face, control events) into a FramePlan; owns the performance state (the conductor)."""

    models: dict

    def step(self, t_s: float, index: int, face: FaceObservation | None, events: list[ControlEvent],
             source_status: str) -> FramePlan: ...


class Presenter(Protocol):
    """Draws a plan with the newest generated images: to a window, or headless to a framebuffer."""

    def draw(self, plan: FramePlan, generated: Generated | None, hud_lines: list[str]) -> None: ...
    def present(self) -> list[str]: ...  # swap / finish; returns key names pressed since last call
    def close(self) -> None: ...


class ReadablePresenter(Presenter, Protocol):
    def read_pixels(self) -> np.ndarray: ...


class EventSource(Protocol):
    def drain(self, now_s: float) -> list[ControlEvent]: ...


class FaceInput(Protocol):
    """Face observations by frame for the fixed clock: a recorded track, or a source tracked on the fly."""

    status: str

    def face_at(self, t_s: float, index: int) -> FaceObservation | None: ...
    def close(self) -> None: ...
