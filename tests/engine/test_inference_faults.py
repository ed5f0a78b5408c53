"""The inference process when the child cannot rebuild a model the parent loaded: its files changed on disk
between the parent's load and the child's (a training run writing over an export mid-show, a copy gone).

A model whose generate raises in a healthy child (a wrong latent size) is covered in test_inference_process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from perform.engine.inference_process import InferenceProcess
from perform.engine.plan import FramePlan, GenJob, Layer, generate
from perform.errors import PerformError
from perform.nets.model import load_model


def plan_for(key: str, z: np.ndarray) -> FramePlan:
    return FramePlan(0, 0.0, (GenJob(key, z),), (Layer("k", "s"),))


def copy_model(src: Path, dst: Path) -> Path:
    """A private copy of a checkpoint (card and weights) to spoil; returns the card."""
    for suffix in (".json", ".safetensors"):
        shutil.copyfile(src.with_suffix(suffix), dst.with_suffix(suffix))
    return dst.with_suffix(".json")


def spoil(card: Path) -> bytes:
    """Overwrite a checkpoint's weights with bytes no loader accepts; returns the old bytes."""
    weights = card.with_suffix(".safetensors")
    good = weights.read_bytes()
    weights.write_bytes(b"not a safetensors file")
    return good


def test_a_restart_that_cannot_rebuild_a_model_fails_cleanly_and_a_later_one_recovers(tmp_path, model_dir):
    card = copy_model(model_dir / "tiny", tmp_path / "m")
    models = {"a": load_model(card, "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1)
    try:
        z = np.full(16, 0.2, np.float32)
        want = generate(plan_for("a", z), models).images[0]
        good = spoil(card)  # the parent's model is in memory and fine; the file the child rebuilds it from is not
        proc.proc.kill()
        proc.proc.join(5)
        with pytest.raises(RuntimeError, match="ended unexpectedly"):
            proc.generate(plan_for("a", z))
        with pytest.raises(PerformError, match="could not load the models") as err:
            proc.restart()  # the infer worker's recovery hook: this error goes to its reporter, and it tries again
        assert "m.safetensors: not a safetensors file" in str(err.value)  # the file named, for the log and HUD
        assert proc.pid is None and proc.restarts == 0  # no half-started child left behind
        with pytest.raises(RuntimeError, match="not running"):  # frames meanwhile fail at once: no wait, image held
            proc.generate(plan_for("a", z))
        card.with_suffix(".safetensors").write_bytes(good)
        proc.restart()  # the next try, with the file back
        assert proc.pid is not None and proc.restarts == 1
        assert np.array_equal(proc.generate(plan_for("a", z)).images[0], want)
    finally:
        proc.close()
    assert proc.pid is None


def test_a_hot_reloaded_model_the_child_cannot_build_fails_alone(tmp_path, model_dir):
    a, b = copy_model(model_dir / "tiny", tmp_path / "a"), copy_model(model_dir / "tiny-b", tmp_path / "b")
    models = {"a": load_model(a, "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1)
    try:
        pid = proc.pid
        z = np.zeros(16, np.float32)
        added = load_model(b, "cpu")  # the hot reload loaded it in the parent ...
        spoil(b)                      # ... and the file changed before the child read it
        proc.add_models({"b": added})
        with pytest.raises(PerformError, match="model b could not be loaded in the inference process") as err:
            proc.generate(plan_for("b", z))
        assert "b.safetensors: not a safetensors file" in str(err.value)
        with pytest.raises(PerformError, match="model b could not be loaded"):  # remembered: not retried per frame
            proc.generate(plan_for("b", z))
        assert np.array_equal(proc.generate(plan_for("a", z)).images[0], generate(plan_for("a", z), models).images[0])
        assert proc.pid == pid and proc.restarts == 0  # one bad model is not a dead child
    finally:
        proc.close()
