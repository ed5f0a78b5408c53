"""The show that runs when no setlist is given: one scene on the shipped model (or an untrained one)."""

from __future__ import annotations

import logging
from pathlib import Path

from perform.nets.checkpoint import paths_for
from perform.setlist.paths import shipped_models_dir
from perform.setlist.schema import Scene, Setlist, Show, ShaderSpec

log = logging.getLogger(__name__)

UNTRAINED = "untrained"
# preferred shipped models, best first
SHIPPED_MODELS = ("face-64",)


def default_model_ref() -> str:
    """The shipped face model if present, else 'untrained' (random weights made on the fly)."""
    for name in SHIPPED_MODELS:
        weights, card = paths_for(shipped_models_dir() / name)
        if weights.exists() and card.exists():
            return str(card)
    log.warning("no shipped model found in %s: using an UNTRAINED model with random weights", shipped_models_dir())
    return UNTRAINED


DEFAULT_SHADERS = (
    ShaderSpec("feedback", "trails", {"decay": 0.6}),
    ShaderSpec("colour_grade", "grade", {}),
    ShaderSpec("display", "display", {"filter": "linear"}),  # bicubic costs ~2.5x on a CPU renderer
)


def default_setlist(model_ref: str | None = None, size: tuple[int, int] = (1280, 720), fps: float = 30.0) -> Setlist:
    """One scene, face and latent both, slow keyframe walk, trails + grade + display; default mappings."""
    ref = model_ref or default_model_ref()
    path = None if ref == UNTRAINED else Path(ref)
    scene = Scene(name="default", model=ref, model_path=path, drive="both", mix=0.5,
                  seeds=(1, 2, 3, 4), keyframe_every=None, shaders=DEFAULT_SHADERS)
    return Setlist(None, Show(title="perform", size=size, fps=fps), (scene,))
