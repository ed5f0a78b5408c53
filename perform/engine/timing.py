"""Timing statistics: rolling per-stage latencies and frame times, p50/p95, and a printable summary."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

STAGES = ("capture", "track", "infer", "render", "frame", "camera_to_screen")


@dataclass(frozen=True, slots=True)
class StageStats:
    name: str
    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float


class TimingStats:
    """Rolling windows of millisecond samples per stage (thread-safe: workers add, the HUD reads).

    Keeps the last `window` samples for the HUD and every sample for the end-of-run summary when
    `keep_all` is set (a benchmark wants the whole run, a show only the recent past).
    """

    def __init__(self, window: int = 240, keep_all: bool = False) -> None:
        self._window = window
        self._recent: dict[str, deque[float]] = {}
        self._all: dict[str, list[float]] | None = {} if keep_all else None
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._t0 = time.perf_counter()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._recent.setdefault(stage, deque(maxlen=self._window)).append(ms)
            if self._all is not None:
                self._all.setdefault(stage, []).append(ms)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def stats(self, stage: str, whole_run: bool = False) -> StageStats | None:
        with self._lock:
            src = (self._all or {}).get(stage) if whole_run else self._recent.get(stage)
            if not src:
                return None
            a = np.fromiter(src, dtype=np.float64)
        return StageStats(stage, a.size, float(a.mean()), float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.max()))

    def all_stats(self, whole_run: bool = False) -> list[StageStats]:
        with self._lock:
            names = list((self._all or {}) if whole_run else self._recent)
        order = {n: i for i, n in enumerate(STAGES)}
        names.sort(key=lambda n: (order.get(n, len(order)), n))
        return [s for n in names if (s := self.stats(n, whole_run)) is not None]

    def fps(self) -> float:
        """Frames per second from the recent frame-time window."""
        s = self.stats("frame")
        return 1000.0 / s.mean_ms if s and s.mean_ms > 0 else 0.0

    def summary(self, whole_run: bool = True, title: str = "timing") -> str:
        rows = self.all_stats(whole_run)
        lines = [f"{title}:", f"  {'stage':<18}{'n':>7}{'mean':>9}{'p50':>9}{'p95':>9}{'max':>9}  (ms)"]
        for s in rows:
            lines.append(f"  {s.name:<18}{s.count:>7}{s.mean_ms:>9.2f}{s.p50_ms:>9.2f}{s.p95_ms:>9.2f}{s.max_ms:>9.2f}")
        frame = self.stats("frame", whole_run)
        if frame and frame.mean_ms > 0:
            lines.append(f"  fps {1000.0 / frame.mean_ms:.1f} (mean frame {frame.mean_ms:.2f} ms, p95 {frame.p95_ms:.2f} ms)")
        counters = self.counters()
        if counters:
            lines.append("  counts: " + ", ".join(f"{k}={v}" for k, v in sorted(counters.items())))
        return "\n".join(lines)

    def as_dict(self, whole_run: bool = True) -> dict:
        return {
            "stages": {s.name: {"n": s.count, "mean_ms": s.mean_ms, "p50_ms": s.p50_ms, "p95_ms": s.p95_ms, "max_ms": s.max_ms}
                       for s in self.all_stats(whole_run)},
            "counts": self.counters(),
        }
