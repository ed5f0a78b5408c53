"""Recorded sessions: a live run's inputs saved to a folder, and read back for the fixed clock."""

from perform.session.reader import FaceTrack, Session, SessionFaceInput, load_session
from perform.session.recorder import RecorderStatus, SessionRecorder
from perform.session.tap import tap_live

__all__ = ["FaceTrack", "RecorderStatus", "Session", "SessionFaceInput", "SessionRecorder", "load_session",
           "tap_live"]
