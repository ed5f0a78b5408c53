"""Assembles the stages into a show: `perform live` and `perform rehearse` call one function each here."""

from __future__ import annotations

import logging
from pathlib import Path

from perform.engine.conductor import Conductor, load_models
from perform.engine.defaults import UNTRAINED, default_setlist
from perform.errors import PerformError
from perform.nets.model import GenerativeModel
from perform.setlist.schema import Setlist

log = logging.getLogger(__name__)


def load_setlist_or_default(path: str | None, model_override: str | None, size: tuple[int, int] | None,
                            fps: float | None) -> Setlist:
    """The setlist at `path` (validated), or the one-scene default; --model replaces every scene's model."""
    from dataclasses import replace

    card = find_model_option(model_override) if model_override else None
    if path is None:
        sl = default_setlist(str(card) if card else None)
    else:
        from perform.setlist.loader import load_setlist

        sl = load_setlist(path)
        if card is not None:
            sl = replace(sl, scenes=tuple(replace(s, model=model_override, model_path=card) for s in sl.scenes))
    show = sl.show
    if size is not None:
        show = replace(show, size=size)
    if fps is not None:
        show = replace(show, fps=fps)
    return replace(sl, show=show)


def find_model_option(ref: str) -> Path:
    """The card of the model --model names: a path, or a name in ./models, $PERFORM_MODELS or the shipped models."""
    from perform.setlist.paths import known_models, model_dirs, resolve_model

    card = resolve_model(ref, None)
    if card is None:
        names = known_models(None)
        where = ", ".join(str(d) for d in model_dirs(None) if d.is_dir())
        raise PerformError(f"--model {ref}: no such model (looked in {where}); "
                           + (f"models there: {', '.join(names)}" if names else "there are no models there"))
    return card


def build_models(setlist: Setlist, device: str | None, cache: dict | None = None) -> dict[str, GenerativeModel]:
    """Load every model a setlist names; the key 'None' (an untrained scene) gets random weights."""
    from perform.nets.model import load_model, random_vaegan

    def loader(path, dev):
        if path is None or str(path) in ("None", UNTRAINED):
            return random_vaegan(seed=0, device=dev)
        return load_model(path, dev)

    return load_models(setlist, device, cache, loader)


def make_conductor(setlist: Setlist, models: dict[str, GenerativeModel]) -> Conductor:
    from perform.engine.conductor import make_mapper
    from perform.setlist.scheduler import SceneScheduler

    return Conductor(setlist, models, make_mapper, SceneScheduler)


def set_torch_threads(n: int | None) -> None:
    import torch

    if n:
        torch.set_num_threads(n)
