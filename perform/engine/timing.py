"""Timing statistics: rolling per-stage latencies and frame times, p50/p95, and a printable summary."""

from __future__ import annotations

import math
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


class _Histogram:
    """Whole-run statistics of one stage in constant memory: count, sum, max and log-spaced buckets.

    Buckets grow by 1% from 1 us to about 30 min, so a percentile read from them is within 0.5% of the
    exact one; a show of any length costs the same few kilobytes (a list of every sample grew by about
    0.6 MB a minute).
    """

    LOW_MS = 1e-3
    RATIO = 1.01
    BUCKETS = 2200  # 1e-3 ms * 1.01**2200 = 3e6 ms

    def __init__(self) -> None:
        self.counts = np.zeros(self.BUCKETS + 1, np.int64)  # bucket 0: everything below LOW_MS
        self.n = 0
        self.total = 0.0
        self.max = -math.inf

    def add(self, ms: float) -> None:
        i = 0 if ms < self.LOW_MS else min(self.BUCKETS, 1 + int(math.log(ms / self.LOW_MS) / _LOG_RATIO))
        self.counts[i] += 1
        self.n += 1
        self.total += ms
        self.max = max(self.max, ms)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100): the geometric middle of the bucket holding it."""
        rank = q / 100.0 * (self.n - 1)
        i = int(np.searchsorted(np.cumsum(self.counts), rank, side="right"))
        if i == 0:
            return 0.0
        return min(self.LOW_MS * self.RATIO ** (i - 0.5), self.max)


_LOG_RATIO = math.log(_Histogram.RATIO)


class TimingStats:
    """Rolling windows of millisecond samples per stage (thread-safe: workers add, the HUD reads).

    Keeps the last `window` samples for the HUD and, when `keep_all` is set, whole-run statistics for the
    end-of-run summary in a streaming histogram (constant memory however long the show: p50/p95 within
    0.5%, count, mean and max exact).
    """

    def __init__(self, window: int = 240, keep_all: bool = False) -> None:
        self._window = window
        self._recent: dict[str, deque[float]] = {}
        self._all: dict[str, _Histogram] | None = {} if keep_all else None
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._t0 = time.perf_counter()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._recent.setdefault(stage, deque(maxlen=self._window)).append(ms)
            if self._all is not None:
                hist = self._all.get(stage)
                if hist is None:
                    hist = self._all[stage] = _Histogram()
                hist.add(ms)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def stats(self, stage: str, whole_run: bool = False) -> StageStats | None:
        with self._lock:
            if whole_run:
                h = (self._all or {}).get(stage)
                if h is None or not h.n:
                    return None
                return StageStats(stage, h.n, h.total / h.n, h.percentile(50), h.percentile(95), h.max)
            src = self._recent.get(stage)
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
