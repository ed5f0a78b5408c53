"""Favourites out of explore: as keyframes (TOML a scene can paste) and as a ready scene appended to a setlist.

A favourite's keyframe is the latent its image was drawn from (`GenomeSpace.express`: the latent moved
along its direction offsets), written with the shortest digits that read back to the same float32, so the
scene plays the very latents that were picked. The scene is appended as text: the setlist's own lines and
comments stay as they were, and the result is checked as a setlist before anything is written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from perform.errors import PerformError
from perform.setlist.loader import parse_setlist
from perform.setlist.paths import resolve_model

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BEATS_PER_KEYFRAME = 8


def _number(x: float) -> str:
    return np.format_float_positional(np.float32(x), unique=True, trim="0")


def keyframes_toml(latents: Sequence[np.ndarray]) -> str:
    """`keyframes = [[...], ...]`, one latent per line."""
    rows = ["  [" + ", ".join(_number(x) for x in np.asarray(z, np.float32)) + "]," for z in latents]
    return "keyframes = [\n" + "\n".join(rows) + "\n]\n"


def model_reference(card: Path, setlist_dir: Path) -> str:
    """How the setlist names the model: its stem where that finds this very card from the setlist's folder,
    else its path relative to the setlist (absolute where there is no relative one)."""
    card = card.resolve()
    if resolve_model(card.stem, setlist_dir) == card:
        return card.stem
    try:
        return os.path.relpath(card, setlist_dir.resolve())
    except ValueError:  # another drive (Windows)
        return str(card)


def scene_toml(name: str, model_ref: str, latents: Sequence[np.ndarray], comment: str) -> str:
    """A [[scene]] walking through the latents, BEATS_PER_KEYFRAME beats each, driven by the latent (the default
    mappings let the face and drift play around each favourite)."""
    k = len(latents)
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += ["[[scene]]", f"name = {_string(name)}", f"model = {_string(model_ref)}", 'drive = "latent"']
    if k > 1:
        lines.append(f"keyframe_every = {{ beats = {BEATS_PER_KEYFRAME} }}")
    lines.append(f"duration = {{ beats = {BEATS_PER_KEYFRAME * k} }}")
    return "\n".join(lines) + "\n" + keyframes_toml(latents)


def _string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def append_scene(setlist: str | Path, card: Path, latents: Sequence[np.ndarray], comment: str,
                 name: str | None = None, title: str = "explored") -> str:
    """Append a scene of `latents` on the model `card` to `setlist` (created, with a [show], if missing).
    Returns the scene's name. Raises PerformError, writing nothing, when the result would not load."""
    if not latents:
        raise PerformError("no favourites to export: mark some first (F, or a 'favourite' action)")
    path = Path(setlist)
    old = path.read_text(encoding="utf-8") if path.exists() else f'[show]\ntitle = {_string(title)}\n'
    try:
        names = {s.get("name") for s in tomllib.loads(old).get("scene", []) if isinstance(s, dict)}
    except tomllib.TOMLDecodeError as e:
        raise PerformError(f"{path}: not valid TOML, nothing appended: {e}") from None
    base = name or f"explore-{card.stem}"
    scene_name, n = base, 2
    while scene_name in names:
        scene_name, n = f"{base}-{n}", n + 1
    text = old if old.endswith("\n") or not old else old + "\n"
    text += "\n" + scene_toml(scene_name, model_reference(card, path.parent.resolve()), latents, comment)
    parse_setlist(text, path)  # raises SetlistError (a PerformError) naming the problem; nothing written then
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return scene_name


def write_keyframes(path: str | Path, latents: Sequence[np.ndarray], comment: str) -> Path:
    """The favourites' keyframes as a TOML fragment (a comment, then `keyframes = [...]`) for any scene."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"# {line}\n" for line in comment.splitlines()) + keyframes_toml(latents), encoding="utf-8")
    return path
