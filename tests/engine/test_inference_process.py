"""Inference in a child process gives the same images as in this one, and survives the child dying."""

from __future__ import annotations

import numpy as np
import pytest

from perform.engine.inference_process import InferenceProcess
from perform.engine.plan import FramePlan, GenJob, generate
from perform.nets.model import load_model


@pytest.fixture(scope="module")
def proc_and_models(model_dir):
    models = {"a": load_model(model_dir / "tiny", "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1)
    yield proc, models
    proc.close()


def plan_for(z, crop=None, mix=0.0):
    return FramePlan(0, 0.0, (GenJob("a", z, crop, mix),), ("k",))


def test_same_images_as_in_process(proc_and_models):
    proc, models = proc_and_models
    rng = np.random.default_rng(0)
    z = rng.standard_normal(16).astype(np.float32)
    crop = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    for plan in (plan_for(z), plan_for(z, crop, 0.7)):
        remote = proc.generate(plan)
        local = generate(plan, models)
        assert remote.plan is plan and remote.infer_ms > 0
        assert np.array_equal(remote.images[0], local.images[0])


def test_a_dead_child_is_restarted_with_its_models(proc_and_models):
    proc, models = proc_and_models
    z = np.zeros(16, np.float32)
    proc.proc.kill()
    proc.proc.join(5)
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        proc.generate(plan_for(z))
    proc.restart()  # what the live clock's infer worker does after the error
    assert np.array_equal(proc.generate(plan_for(z)).images[0], generate(plan_for(z), models).images[0])


def test_an_error_in_the_child_comes_back_as_an_exception(proc_and_models):
    proc, _ = proc_and_models
    with pytest.raises(RuntimeError, match="KeyError"):
        proc.generate(FramePlan(0, 0.0, (GenJob("missing", np.zeros(16, np.float32)),), ("k",)))
    assert proc.generate(plan_for(np.zeros(16, np.float32))).images[0].shape == (32, 32, 3)  # and it carries on
