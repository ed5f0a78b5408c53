"""A blend declared by a setlist runs in the inference process as in the parent, and a hot reload that
declares it differently under the same model key is rebuilt in the child."""

from __future__ import annotations

import numpy as np

from perform.engine.inference_process import InferenceProcess
from perform.engine.plan import FramePlan, GenJob, Layer
from perform.nets.declared import declared_model
from perform.nets.model import load_model


def _plan(z: np.ndarray) -> FramePlan:
    return FramePlan(0, 0.0, (GenJob("a", z),), (Layer("k", "s"),))


def test_declared_blend_in_the_child_and_a_changed_declaration_rebuilt(model_dir):
    a, b = model_dir / "tiny.json", model_dir / "tiny-b.json"
    z = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    half = declared_model(a, "cpu", blend_with=b, defaults={"blend.alpha": 0.5})
    proc = InferenceProcess({"a": half}, device="cpu", threads=1)
    try:
        assert np.array_equal(proc.generate(_plan(z)).images[0], half.generate(z))
        proc.add_models({"a": declared_model(a, "cpu", blend_with=b, defaults={"blend.alpha": 1.0})})
        assert np.array_equal(proc.generate(_plan(z)).images[0], load_model(b, "cpu").generate(z))
    finally:
        proc.close()
