"""Taps that feed a SessionRecorder from a live run without changing the engine.

The tracker tap sees every camera frame and every observation (at capture rate, on the tracking thread); the
program tap sees every control event the conductor receives, keys included (on the render thread); the
recorder itself, as LiveOptions.on_frame, sees the scene of each drawn frame.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from perform.control.events import ControlEvent
from perform.engine.stages import is_blank
from perform.session.recorder import SessionRecorder
from perform.sources.frame import Frame
from perform.tracking.observation import FaceObservation


class RecordingTracker:
    """Wraps a tracker (engine.stages.Tracker): records each frame and the observation made from it."""

    def __init__(self, tracker: Any, recorder: SessionRecorder) -> None:
        self._tracker = tracker
        self._recorder = recorder

    def process(self, frame: Frame) -> FaceObservation:
        if not is_blank(frame):  # the stand-in fed while no frame comes is no camera frame: camera.mp4 skips it
            self._recorder.add_frame(frame)
        obs = self._tracker.process(frame)
        self._recorder.add_face(obs)  # the face fading out while no frame comes is what the show saw
        return obs

    def close(self) -> None:
        self._tracker.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)


class RecordingProgram:
    """Wraps a conductor (engine.stages.Program): records the events it is given; adds the recorder's HUD line."""

    def __init__(self, program: Any, recorder: SessionRecorder) -> None:
        self._program = program
        self._recorder = recorder

    @property
    def models(self) -> dict:
        return self._program.models

    def step(self, t_s: float, index: int, face: FaceObservation | None, events: list[ControlEvent],
             source_status: str) -> Any:
        if events:
            # stamped when they took effect (this frame), not when they arrived: a message that came in
            # before the show started, or while a frame was drawn, acts at this frame, and so must its replay
            self._recorder.add_events([e if e.t_s >= t_s else replace(e, t_s=t_s) for e in events])
        return self._program.step(t_s, index, face, events, source_status)

    def hud_lines(self) -> list[str]:
        return list(getattr(self._program, "hud_lines", lambda: [])()) + self._recorder.hud_lines()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._program, name)


def tap_live(recorder: SessionRecorder, tracker_factory: Callable[[], Any], program: Any,
             on_frame: Callable[..., None] | None = None) -> tuple[Callable[[], Any], RecordingProgram,
                                                                   Callable[..., None]]:
    """Wire a recorder into a live run: returns (tracker_factory, program, on_frame) to hand to LiveRunner /
    LiveOptions in place of the originals. An existing on_frame hook keeps running after the recorder's."""

    def factory() -> RecordingTracker:
        return RecordingTracker(tracker_factory(), recorder)

    def frame_hook(index: int, plan: Any, generated: Any) -> None:
        recorder(index, plan, generated)
        if on_frame is not None:
            on_frame(index, plan, generated)

    return factory, RecordingProgram(program, recorder), frame_hook
