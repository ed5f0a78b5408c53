"""One Euro filter: smoothing at rest, following in motion, caller-given time."""

import numpy as np
import pytest

from perform.tracking.one_euro import OneEuroFilter


def _run(f, xs, fps=60.0):
    return np.array([f(x, i / fps) for i, x in enumerate(xs)])


def test_reduces_jitter_at_rest():
    rng = np.random.default_rng(0)
    noisy = 0.5 + rng.normal(0, 0.05, (300, 3))
    out = _run(OneEuroFilter(min_cutoff=1.0, beta=0.0), noisy)
    assert out.shape == (300, 3)
    assert out[60:].std(axis=0).max() < noisy.std(axis=0).min() / 3


def test_beta_cuts_lag_in_motion():
    ramp = np.linspace(0, 3, 120)[:, None]  # moving at 1.5 units/s
    slow = _run(OneEuroFilter(min_cutoff=0.5, beta=0.0), ramp)
    fast = _run(OneEuroFilter(min_cutoff=0.5, beta=5.0), ramp)
    lag_slow, lag_fast = ramp[-1, 0] - slow[-1, 0], ramp[-1, 0] - fast[-1, 0]
    assert lag_fast < lag_slow / 3 and lag_fast >= 0


def test_deterministic_and_time_driven():
    xs = np.sin(np.linspace(0, 6, 100))
    a, b = _run(OneEuroFilter(1.0, 0.3), xs), _run(OneEuroFilter(1.0, 0.3), xs)
    assert np.array_equal(a, b)
    f = OneEuroFilter(1.0, 0.3)
    f(0.0, 1.0)
    y = f(1.0, 1.1)
    assert np.array_equal(f(5.0, 1.1), y)  # repeated timestamp: last output, no division by zero
    assert np.array_equal(f(5.0, 0.5), y)  # time going backwards: same


def test_reset_and_bad_params():
    f = OneEuroFilter()
    f(1.0, 0.0)
    f.reset(np.array([2.0]), 1.0)
    assert f.value[0] == 2.0
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0)
