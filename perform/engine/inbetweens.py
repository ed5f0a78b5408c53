"""In-between images: the chained clock generates between two camera frames when there is time for it.

A 30 fps camera gives 30 faces a second, a display shows 60 images. When a scene moves on its own (a
keyframe walk, LFOs, a trajectory, audio), the image half-way between two faces differs from both, and
drawing it makes that motion as smooth as the display allows. The chain thread plans the newest face
again one display period after its last plan, but only when the image will be back before the next
camera frame is due: a camera frame never waits for an in-between, so latency is untouched, and a slow
model (or a camera as fast as the display) simply gets none. An in-between whose inputs did not move is
not generated at all (the live clock never generates the same inputs twice).

They cost a core's time while the camera child tracks the next frame: on two cores that slowed tracking
and put 2-4 ms on camera-to-screen (docs/performance.md), so `auto` (the default of `perform live
--inbetweens`) turns them on with four cores or more.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

CHOICES = ("auto", "on", "off")
AUTO_MIN_CORES = 4


def wanted(choice: str, cores: int | None = None) -> bool:
    """--inbetweens auto|on|off: auto is on with AUTO_MIN_CORES cores or more (cores: os.cpu_count())."""
    if choice not in CHOICES:
        raise ValueError(f"in-betweens: {choice!r} is not one of {', '.join(CHOICES)}")
    if choice == "auto":
        return (cores if cores is not None else os.cpu_count() or 1) >= AUTO_MIN_CORES
    return choice == "on"


@dataclass
class InBetweens:
    """period_s: how long after a plan an in-between is planned (the display period); margin_s: kept
    free before the next camera frame; smoothing: the weight of each new sample in the running means."""

    period_s: float
    margin_s: float = 0.002
    smoothing: float = 0.2
    camera_s: float = math.nan  # running mean of the time between camera frames (their stamps)
    generate_s: float = math.nan  # running mean of an image's round trip through the model
    _last_stamp: float = math.nan
    _last_arrival: float = math.nan

    def _mean(self, old: float, new: float) -> float:
        return new if math.isnan(old) else old + self.smoothing * (new - old)

    def frame(self, t_capture_s: float, arrived_s: float) -> None:
        """A camera frame's face came (stamped t_capture_s, here at arrived_s)."""
        gap = t_capture_s - self._last_stamp
        if 0.0 < gap < 1.0:  # a second without frames (camera lost) is not the camera's rate
            self.camera_s = self._mean(self.camera_s, gap)
        self._last_stamp, self._last_arrival = t_capture_s, arrived_s

    def generated(self, seconds: float) -> None:
        self.generate_s = self._mean(self.generate_s, seconds)

    def due(self, last_plan_s: float) -> float | None:
        """When to plan the next in-between (perf_counter seconds), or None: it would not be back before the
        next camera frame is expected (or the rates are not known yet)."""
        if math.isnan(self.camera_s) or math.isnan(self.generate_s):
            return None
        t = last_plan_s + self.period_s
        if t + self.generate_s + self.margin_s > self._last_arrival + self.camera_s:
            return None
        return t
