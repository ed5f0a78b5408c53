"""The chained live pipeline: capture and tracking in an inference child, out of the show's process.

Per camera frame a child reads the source, tracks the face and answers the observation; the live clock's
chain thread plans it at once (the conductor stays in the show's process) and the model's child generates
the image right after. By default (`inference_process.ChainedInference`) the tracking child is not the
model's and tracks a frame ahead; `InferenceProcess(chain=...)` alone does both in one child. MediaPipe
then never shares the show process's GIL with the render loop (moderngl holds it through every GL call:
tracking took 2-9x longer there than alone), and a frame goes capture -> track -> plan -> generate with
no render tick in between.

`ChainSpec` says how the child opens its source and tracker (picklable factories: the child is forked
from a clean fork server, or spawned); `ChildSource` stands in for the source in the show's process
(its name, and the status the child reported last); `ChainFeed` is the child's side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from perform.engine.stages import no_face
from perform.tracking.observation import FaceObservation


@dataclass(frozen=True)
class ChainSpec:
    """What the inference child needs to capture and track.

    source_factory: opens the source in the child (e.g. functools.partial(open_source, "camera:0", ...)).
    tracker_factory: builds the tracker in the child (FaceTracker with the model's crop size, or NullTracker).
    name: the source's name for the HUD and the status file.
    source_timeout_s: no frame for this long: the source is silent, and a blank frame is tracked every
      idle_emit_s (the face fades out; a slow camera's gaps between frames stay shorter than this).
    """

    source_factory: Callable[[], Any]
    tracker_factory: Callable[[], Any]
    name: str = "camera"
    source_timeout_s: float = 0.25
    idle_emit_s: float = 1 / 30


class NullTracker:
    """Tracking off: every frame is 'no face'."""

    def process(self, frame):
        return FaceObservation.absent(frame.t_capture_s, frame.index)

    def close(self) -> None:
        pass


class ChildSource:
    """The source as the show's process sees it when the inference child reads it: a name and the status
    the child reported with its last answer. Reading happens in the child (`InferenceProcess.track`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.status = "waiting"

    def read(self, timeout_s: float):  # the live clock never reads it: frames arrive tracked, through the child
        return None

    def close(self) -> None:
        pass


class ChainFeed:
    """The child's side: the source and the tracker, opened in the child. `next(wait_s)` is the newest
    frame tracked, a blank frame tracked while none comes (the face fades out), or None."""

    def __init__(self, spec: ChainSpec) -> None:
        self.spec = spec
        self.source = spec.source_factory()
        self.tracker: Any = None
        self._frame_t = self._blank_t = time.perf_counter()
        self.warm_up()

    def warm_up(self) -> None:
        if self.tracker is None:
            self.tracker = self.spec.tracker_factory()

    def next(self, wait_s: float) -> FaceObservation | None:
        self.warm_up()  # after a tracker error the tracker is rebuilt here, on the next request
        frame = self.source.read(wait_s)
        now = time.perf_counter()
        if frame is None:
            if now - self._frame_t < self.spec.source_timeout_s or now - self._blank_t < self.spec.idle_emit_s:
                return None
            self._blank_t = now
            return no_face(self.tracker, now)
        self._frame_t = now
        try:
            return self.tracker.process(frame)
        except Exception:
            self.reset()
            raise

    @property
    def status(self) -> str:
        return self.source.status

    def reset(self) -> None:
        """Drop the tracker (it failed): the next request builds a fresh one."""
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            try:
                tracker.close()
            except Exception:
                pass

    def close(self) -> None:
        self.reset()
        self.source.close()
