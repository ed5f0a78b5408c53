"""Timing statistics: whole-run percentiles in constant memory, close to the exact ones."""

from __future__ import annotations

import tracemalloc

import numpy as np

from perform.engine.timing import TimingStats


def test_whole_run_statistics_do_not_grow_with_the_show():
    stats = TimingStats(keep_all=True)
    rng = np.random.default_rng(0)
    for stage in ("frame", "infer"):  # the stages' first samples allocate what they keep
        stats.add(stage, 16.0)
    samples = rng.gamma(4.0, 4.0, 200_000).tolist()  # an hour of frames at 60 fps is 216 000
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for ms in samples:
        stats.add("frame", ms)
        stats.add("infer", ms / 4)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert grown < 200_000, f"{grown} bytes kept for 400 000 samples"


def test_whole_run_percentiles_match_the_exact_ones():
    stats = TimingStats(window=50, keep_all=True)
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.gamma(4.0, 4.0, 20_000), rng.uniform(40, 80, 500), [0.0, 1e-4, 250.0]])
    rng.shuffle(a)
    for ms in a:
        stats.add("frame", float(ms))
    s = stats.stats("frame", whole_run=True)
    assert s.count == a.size and s.max_ms == a.max()
    assert abs(s.mean_ms - a.mean()) < 1e-9 * a.sum()
    for got, q in ((s.p50_ms, 50), (s.p95_ms, 95)):
        assert abs(got - np.percentile(a, q)) <= 0.01 * np.percentile(a, q)
    recent = stats.stats("frame")  # the HUD's window: the last 50 samples, exactly
    assert recent.count == 50 and recent.p50_ms == np.percentile(a[-50:], 50)
    assert "p95" in stats.summary() and stats.as_dict()["stages"]["frame"]["n"] == a.size
