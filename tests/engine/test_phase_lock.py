"""The paced render loop's phase lock, on a simulated clock: a 60 Hz tick against a 30 Hz camera's images."""

import numpy as np
import pytest

from perform.engine.phase_lock import PhaseLock

PERIOD = 1 / 60
CAMERA = 1 / 30


def _run(lock: PhaseLock | None, offset_s: float, seconds: float = 3.0, jitter_s: float = 0.0, seed: int = 0,
         late_every: int = 0, late_s: float = 0.0):
    """Ticks as the live clock paces them; images arrive every CAMERA seconds from offset_s (plus jitter, and
    every late_every-th one late_s late). Returns (tick times, each fresh image's wait from arrival to the
    tick that picked it up)."""
    rng = np.random.default_rng(seed)
    steady = np.arange(offset_s, seconds, CAMERA)
    if late_every:
        steady[::late_every] += late_s
    arrivals = np.sort(steady + rng.uniform(-jitter_s, jitter_s, steady.size))
    ticks, waits = [], []
    t, seen = 0.0, 0
    while t < seconds:
        ticks.append(t)
        t_next = t + PERIOD
        new = int(np.searchsorted(arrivals, t, side="right"))
        if new > seen:  # a fresh image is there at this tick: the newest one is drawn
            waited = t - arrivals[new - 1]
            waits.append(waited)
            if lock is not None:
                t_next += lock.correction(waited)
            seen = new
        t = t_next
    return np.array(ticks), np.array(waits)


@pytest.mark.parametrize("offset_ms", [0.5, 4.0, 8.0, 9.0, 12.0, 16.0, 25.0])
def test_ticks_settle_just_after_the_images(offset_ms):
    lock = PhaseLock(PERIOD)
    _, unlocked = _run(None, offset_ms / 1000)
    ticks, waits = _run(lock, offset_ms / 1000)
    # unlocked, a steady camera keeps its phase for the whole show
    assert np.ptp(unlocked[5:]) < 1e-6
    # locked: after the first second every image is drawn within a couple of milliseconds of its arrival
    late = waits[len(waits) // 3:]
    assert late.max() < lock.lag_s + 0.001, (offset_ms, late.max())
    # the rate is the same and no tick moves by more than max_step of a period
    steps = np.diff(ticks)
    assert steps.min() >= PERIOD * (1 - lock.max_step) - 1e-9
    assert steps.max() <= PERIOD * (1 + lock.max_step) + 1e-9
    assert np.allclose(steps[len(steps) // 3:], PERIOD, atol=1e-4)


def test_an_image_that_just_missed_a_tick_moves_the_tick_later():
    assert PhaseLock(PERIOD).correction(PERIOD - 0.0005) > 0  # arrived 0.5 ms after the tick before: wait a little
    assert PhaseLock(PERIOD).correction(0.006) < 0  # waited 6 ms: tick earlier
    assert PhaseLock(PERIOD).correction(PhaseLock.lag_s) == 0


def test_a_jittery_camera_still_waits_less():
    lock = PhaseLock(PERIOD)
    _, unlocked = _run(None, 0.0105, seconds=6.0, jitter_s=0.002, seed=1)
    _, locked = _run(lock, 0.0105, seconds=6.0, jitter_s=0.002, seed=1)
    assert np.median(locked[len(locked) // 3:]) < 0.5 * np.median(unlocked[len(unlocked) // 3:])


def test_late_images_do_not_drag_the_ticks_along():
    """One image in eight comes 8 ms late (a slow frame): the others stay locked, and the rate stays."""
    lock = PhaseLock(PERIOD)
    ticks, waits = _run(lock, 0.006, seconds=6.0, late_every=8, late_s=0.008)
    on_time = np.delete(waits, np.arange(0, waits.size, 8))
    assert np.median(on_time[len(on_time) // 3:]) < 0.003
    steps = np.diff(ticks)
    assert abs(steps[len(steps) // 3:].mean() - PERIOD) < PERIOD * 0.002


def test_the_rate_stays_under_jitter():
    ticks, _ = _run(PhaseLock(PERIOD), 0.003, seconds=10.0, jitter_s=0.004, seed=2)
    steps = np.diff(ticks)
    assert abs(steps[len(steps) // 3:].mean() - PERIOD) < PERIOD * 0.002
