"""Show assembly for both clocks: the setlist, its models and the conductor, built once by `build_show()`.

`perform live` (live_show.py), `perform rehearse` (rehearsal.py), the tests and the benchmarks all start here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from perform.engine.conductor import Conductor, card_of_key, load_models, make_mapper, model_key, setlist_bends
from perform.engine.defaults import UNTRAINED, default_setlist
from perform.nets.declared import declared_model, declared_spec
from perform.nets.model import GenerativeModel, load_model, random_vaegan
from perform.setlist.loader import load_setlist
from perform.setlist.paths import find_model
from perform.setlist.scheduler import SceneScheduler
from perform.setlist.schema import Setlist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Show:
    """A show ready for either clock: its setlist, the models it loaded and the conductor that plays it."""

    setlist: Setlist
    models: dict[str, GenerativeModel]
    conductor: Conductor


def build_show(setlist: Setlist | str | Path | None, *, model: str | None = None,
               size: tuple[int, int] | None = None, fps: float | None = None, device: str | None = "auto",
               models: dict[str, GenerativeModel] | None = None, control: Any = None,
               reply: Callable | None = None, precision: str = "fp32",
               on_scene: Sequence[Callable[[int, str], None]] = (), audio: Any = None) -> Show:
    """The setlist (a path, loaded and validated; None: the one-scene default; or one already loaded), its models
    (loaded on `device` in `precision` unless given) and a conductor that reads `control` (a ControlState: the live one, or an
    EventTimeline's) and `audio` (AudioSignals, for audio.* mappings), answers OSC senders through `reply` and tells
    `on_scene` (index, name) of each scene change."""
    if not isinstance(setlist, Setlist):
        setlist = load_setlist_or_default(None if setlist is None else str(setlist), model, size, fps)
    if models is None:
        models = build_models(setlist, device, precision=precision)
    return Show(setlist, models, make_conductor(setlist, models, control=control, reply=reply, on_scene=on_scene,
                                                audio=audio))


def load_setlist_or_default(path: str | None, model_override: str | None, size: tuple[int, int] | None,
                            fps: float | None) -> Setlist:
    """The setlist at `path` (validated), or the one-scene default; --model replaces every scene's model."""
    card = find_model_option(model_override) if model_override else None
    if path is None:
        sl = default_setlist(str(card) if card else None)
    else:
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
    """The card of the model --model names (setlist.paths.find_model)."""
    return find_model(ref, "--model")


def build_models(setlist: Setlist, device: str | None, cache: dict | None = None,
                 precision: str = "fp32") -> dict[str, GenerativeModel]:
    """Load every model a setlist names, to run in `precision`; the key 'None' (an untrained scene) gets random weights.
    A model its scenes declare a blend or trajectory for is built as declared (perform.nets.declared); a cached
    model built from another declaration is built again."""
    declared = {str(s.model_path): s.model_declaration() for s in setlist.scenes}

    def loader(path, dev):
        if path is None or str(path) in ("None", UNTRAINED):
            return random_vaegan(seed=0, device=dev, precision=precision)
        decl = declared.get(str(path))
        if decl is None:
            return load_model(path, dev, precision)
        other, swap, defaults = decl
        return declared_model(path, dev, precision, other, swap, dict(defaults))

    return load_models(setlist, device, _reusable_cache(setlist, cache, precision), loader)


def models_to_load(setlist: Setlist, cache: dict | None, precision: str = "fp32") -> list[str]:
    """The model keys build_models would load rather than reuse from `cache` (a hot reload loads those off the
    render thread: a model's load is a visible stall)."""
    reusable = _reusable_cache(setlist, cache, precision) or {}
    bends = setlist_bends(setlist)
    return sorted({k for k in (model_key(s, bends) for s in setlist.scenes) if k not in reusable})


def _reusable_cache(setlist: Setlist, cache: dict | None, precision: str) -> dict | None:
    """The cached models the setlist would build the same way (its card is not declared, or declared alike)."""
    if cache is None:
        return None
    declared = {str(s.model_path): s.model_declaration() for s in setlist.scenes}
    return {k: m for k, m in cache.items() if _reusable(m, card_of_key(k), declared, precision)}


def _reusable(model: GenerativeModel, path: str, declared: dict, precision: str) -> bool:
    """Whether a loaded model serves the new setlist as it is (its card is not declared, or declared alike)."""
    return path not in declared or _same_build(model, path, declared[path], precision)


def _same_build(model: GenerativeModel, path: str, decl: tuple | None, precision: str) -> bool:
    spec = getattr(model, "spec", None)
    if spec and spec[0] == "bent":  # the bends are in the key; what they are put on is the inner model
        spec = spec[1]
    if decl is None:
        return not (spec and spec[0] == "declared")
    other, swap, defaults = decl
    return spec == declared_spec(path, precision, other, swap, dict(defaults))


def make_conductor(setlist: Setlist, models: dict[str, GenerativeModel], control: Any = None,
                   reply: Callable | None = None, on_scene: Sequence[Callable[[int, str], None]] = (),
                   audio: Any = None) -> Conductor:
    return Conductor(setlist, models, make_mapper, SceneScheduler, control=control, reply=reply, on_scene=on_scene,
                     audio=audio)


def set_torch_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
