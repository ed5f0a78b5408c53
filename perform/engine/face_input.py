"""Face input for the fixed clock: a timed source (synthetic, video file) tracked frame by frame."""

from __future__ import annotations

from perform.engine.stages import no_face
from perform.sources.frame import TimedSource
from perform.tracking.observation import FaceObservation


class TrackedFaceInput:
    """Tracks `source.frame_at(t, n)` for each frame in order; a frame the source lacks counts as no face.

    The tracker is driven by frame times only, so the same source and frames give the same observations.
    """

    def __init__(self, source: TimedSource, tracker) -> None:
        self.source = source
        self.tracker = tracker
        self.status = "ok"

    def face_at(self, t_s: float, index: int) -> FaceObservation | None:
        frame = self.source.frame_at(t_s, index)
        if frame is None:
            self.status = getattr(self.source, "status", "lost") if getattr(self.source, "status", "ok") != "ok" else "lost"
            return no_face(self.tracker, t_s)
        self.status = "ok"
        return self.tracker.process(frame)

    def close(self) -> None:
        self.tracker.close()
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
