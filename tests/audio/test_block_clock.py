"""BlockClock: a stream's blocks stamped at their capture times although their callbacks run late."""

from __future__ import annotations

import numpy as np

from perform.audio.block_clock import BlockClock

RATE, BLOCK = 48_000, 256
PERIOD = BLOCK / RATE


def _late(n: int, seed: int = 0) -> np.ndarray:
    """How late each callback reads its block's capture time: ~0.5-3 ms, and one in 40 stalled 30-300 ms."""
    rng = np.random.default_rng(seed)
    late = 0.0005 + rng.exponential(0.001, n)
    stalls = rng.random(n) < 1 / 40
    late[stalls] += rng.uniform(0.03, 0.3, stalls.sum())
    return late


def test_late_callbacks_move_no_stamp():
    clock = BlockClock(RATE)
    n = 3000  # 16 s
    true = 100.0 + np.arange(n) * PERIOD
    late = _late(n)
    stamps = np.array([clock.stamp(t + d, BLOCK) for t, d in zip(true, late)])
    settled = stamps[40:] - true[40:]  # once a block read with little delay has been seen
    assert np.abs(settled).max() < 0.001, np.abs(settled).max()
    assert np.abs(late[40:]).max() > 0.1  # the raw times were off by far more
    assert np.all(np.diff(stamps) > 0)


def test_a_card_slower_or_faster_than_the_computer_is_followed():
    for ppm in (-100.0, 100.0):
        clock = BlockClock(RATE)
        n = 12_000  # 64 s
        true = 5.0 + np.arange(n) * PERIOD * (1 + ppm * 1e-6)
        stamps = np.array([clock.stamp(t + d, BLOCK) for t, d in zip(true, _late(n, seed=1))])
        assert np.abs(stamps[200:] - true[200:]).max() < 0.0015, ppm  # 64 s apart the two clocks differ by 6 ms


def test_after_a_reset_the_stamps_follow_the_new_stream():
    clock = BlockClock(RATE)
    for k in range(100):
        clock.stamp(10.0 + k * PERIOD + 0.001, BLOCK)
    clock.reset()  # the device reopened 2 s later (or lost samples)
    stamps = [clock.stamp(12.5 + k * PERIOD + 0.001, BLOCK) for k in range(100)]
    assert abs(stamps[0] - 12.501) < 1e-9 and abs(stamps[-1] - (12.501 + 99 * PERIOD)) < 1e-9
