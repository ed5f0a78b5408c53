"""Where a setlist's model references point: relative to the setlist, then the models/ folders, by stem too."""

from __future__ import annotations

import os
from pathlib import Path

from perform.errors import PerformError
from perform.resources import data_dir

MODELS_ENV = "PERFORM_MODELS"  # extra folders of models, separated by os.pathsep


def shipped_models_dir() -> Path:
    """The shipped checkpoints: the installed package's models/, or a clone's."""
    return data_dir("models", "*.json")


def model_dirs(setlist_dir: Path | None) -> list[Path]:
    """Folders searched, in order, for a model given by a relative path or a stem: beside the setlist (None: a
    model named on the command line, looked for from the working folder), $PERFORM_MODELS, ./models, the shipped."""
    if setlist_dir is None:
        dirs = [Path.cwd()]
    else:
        dirs = [setlist_dir, setlist_dir / "models", setlist_dir.parent / "models"]
    dirs += [Path(p) for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "models", shipped_models_dir()]
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def searched(setlist_dir: Path | None) -> str:
    """The folders model_dirs searches, for a 'not found' message: those that exist, and any $PERFORM_MODELS
    folder that does not (a typo there is the likely mistake)."""
    env = {Path(p) for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p}
    return ", ".join(str(d) if d.is_dir() else f"{d} (no such folder, from ${MODELS_ENV})"
                     for d in model_dirs(setlist_dir) if d.is_dir() or d in env)


def _card(candidate: Path) -> Path | None:
    """The model card for a path given as stem, .json or .safetensors, if the card exists."""
    stem = candidate.with_suffix("") if candidate.suffix in (".json", ".safetensors") else candidate
    card = stem.with_name(stem.name + ".json")
    return card if card.is_file() else None


def resolve_model(ref: str, setlist_dir: Path | None) -> Path | None:
    """The card path of model `ref` ("face-64", "models/face-64.safetensors", "/abs/x.json"), or None."""
    p = Path(os.path.expanduser(ref))
    if p.is_absolute():
        return _card(p)
    for d in model_dirs(setlist_dir):
        found = _card(d / p)
        if found is not None:
            return found.resolve()
    return None


def known_models(setlist_dir: Path | None) -> list[str]:
    """Stems of the model cards in the searched folders, for 'did you mean' hints."""
    names: list[str] = []
    for d in model_dirs(setlist_dir):
        if d.is_dir():
            names += [c.stem for c in sorted(d.glob("*.json"))
                      if c.with_suffix(".safetensors").exists() and c.stem not in names]
    return names


def find_model(ref: str, what: str = "model") -> Path:
    """The card `ref` names (a path, or a name in ./models, $PERFORM_MODELS or the shipped models), or a
    PerformError naming `what` asked for it, where it looked and the models there are."""
    card = resolve_model(ref, None)
    if card is None:
        names = known_models(None)
        raise PerformError(f"{what} {ref}: no such model (looked in {searched(None)}); "
                           + (f"models there: {', '.join(names)}" if names else "there are no models there"))
    return card
