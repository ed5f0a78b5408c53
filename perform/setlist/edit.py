"""Edits to a setlist file that keep everything a person wrote (comments, order, spacing): tomlkit round trips.

`add_mapping` is what MIDI learn writes: one mapping into the place the scene's mappings come from (its own
[[scene.mapping]] tables, the mapping file it names, or [show.defaults]'s), replacing a mapping with the same
target and a MIDI source (learning a target again moves it to the new control). A scene that plays the
shipped defaults gets them copied in first, so they keep playing beside the new one. The file is replaced
atomically; the setlist watcher then reloads it like any other edit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import tomlkit

from perform.errors import PerformError
from perform.mapping.spec import DEFAULT_MAPPINGS


def add_mapping(setlist_path: str | os.PathLike, scene_name: str, mapping: Mapping[str, Any],
                comment: str = "") -> Path:
    """Write `mapping` (a [[mapping]] table as a dict) for scene `scene_name`; returns the file written."""
    path = Path(setlist_path)
    doc = _read(path)
    scenes = doc.get("scene")
    scene = next((s for s in (scenes or ()) if isinstance(s, dict) and s.get("name") == scene_name), None)
    if scene is None:
        raise PerformError(f"{path}: no scene named {scene_name!r} to add a mapping to")
    defaults = doc.get("show", {}).get("defaults", {})
    owner = scene if "mapping" in scene else defaults if "mapping" in defaults else None
    if owner is None:  # the scene plays the shipped defaults: keep them playing beside the new mapping
        tables = tomlkit.aot()
        for i, t in enumerate(tomlkit.parse(DEFAULT_MAPPINGS.read_text(encoding="utf-8"))["mapping"]):
            tables.append(_table(t.unwrap(), "the shipped default mappings, copied here by MIDI learn" if i == 0 else "",
                                 blank=False))  # a new array of tables puts its own blank lines between them
        scene["mapping"] = tables
        owner = scene
    where = owner["mapping"]
    if isinstance(where, str):  # a mapping file, relative to the setlist
        file = (path.parent / Path(os.path.expanduser(where))).resolve()
        mdoc = _read(file)
        if "mapping" not in mdoc:
            mdoc["mapping"] = tomlkit.aot()
        _put(mdoc["mapping"], mapping, comment, file)
        _write(file, mdoc)
        return file
    _put(where, mapping, comment, path)
    _write(path, doc)
    return path


def _put(tables: Any, mapping: Mapping[str, Any], comment: str, file: Path) -> None:
    """Replace the table with the same target and a MIDI source, or append one."""
    if not isinstance(tables, list):
        raise PerformError(f"{file}: 'mapping' is not an array of tables; add the mapping by hand")
    inline = isinstance(tables, tomlkit.items.Array)
    if inline:
        new: Any = tomlkit.inline_table()
        new.update(dict(mapping))
    else:
        new = _table(mapping, comment)
    for i, t in enumerate(tables):
        if isinstance(t, dict) and t.get("target") == mapping["target"] and str(t.get("source", "")).startswith("midi."):
            tables[i] = new
            return
    tables.append(new)


def _table(values: Mapping[str, Any], comment: str = "", blank: bool = True) -> Any:
    """A [[...]] table, with a blank line after it as a person would leave one."""
    t = tomlkit.table()
    t.update(dict(values))
    if comment:
        t.comment(comment)
    if blank:
        t.add(tomlkit.nl())
    return t


def _read(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise PerformError(f"{path}: cannot read: {e}") from None
    except tomlkit.exceptions.ParseError as e:
        raise PerformError(f"{path}: not valid TOML ({e}); fix it before learning") from None


def _write(path: Path, doc: tomlkit.TOMLDocument) -> None:
    """Replace the file in one step: the watcher (or an editor) never reads half of it."""
    text = tomlkit.dumps(doc)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
