"""Hot reload: notices edits to a setlist (and the mapping files it names) and re-validates them.

poll() is cheap enough for every frame: one stat per file; the text is read and hashed only when a stat
changed, and parsed only when the hash changed. A broken edit never replaces the last good setlist.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Callable, Sequence

from perform.setlist.loader import load_setlist
from perform.setlist.problems import SetlistError
from perform.setlist.schema import Setlist

log = logging.getLogger(__name__)

Validator = Callable[[Setlist], Sequence[str]]  # extra checks by the engine (e.g. models it cannot load): messages


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _digest(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        try:
            h.update(p.read_bytes())
        except OSError:
            h.update(b"\0missing")
        h.update(b"\0" + str(p).encode())
    return h.hexdigest()


class SetlistWatcher:
    """Watches one setlist file. `setlist` is the last good one; `error` the current problem, until fixed.

    poll() -> a new Setlist when a valid edit landed; the error text when an edit is broken (returned once
    per edit; `error` keeps it until a good edit clears it); None when nothing changed.
    """

    def __init__(self, path: str | os.PathLike, setlist: Setlist | None = None, validate: Validator | None = None) -> None:
        self.path = Path(path)
        self.validate = validate
        self.setlist: Setlist = setlist if setlist is not None else load_setlist(self.path)
        self.error: str | None = None
        self._files = self._watched(self.setlist)
        self._stats = [_stat(p) for p in self._files]
        self._hash = _digest(self._files)

    def _watched(self, setlist: Setlist) -> list[Path]:
        files = [self.path]
        for scene in setlist.scenes:
            f = scene.mappings.file
            if f is not None and f not in files:
                files.append(f)
        return files

    def poll(self) -> Setlist | str | None:
        stats = [_stat(p) for p in self._files]
        if stats == self._stats:
            return None
        self._stats = stats
        digest = _digest(self._files)
        if digest == self._hash:
            return None  # touched, or saved unchanged
        self._hash = digest
        try:
            new = load_setlist(self.path)
            problems = list(self.validate(new)) if self.validate is not None else []
        except SetlistError as e:
            return self._fail(str(e))
        except Exception as e:  # noqa: BLE001 - a reload must never take the show down; the engine shows this
            return self._fail(f"{self.path}: reload failed: {type(e).__name__}: {e}")
        if problems:
            return self._fail("\n".join(problems))
        self.setlist = new
        self.error = None
        self._files = self._watched(new)
        self._stats = [_stat(p) for p in self._files]
        self._hash = _digest(self._files)
        log.info("setlist reloaded: %s", self.path)
        return new

    def _fail(self, message: str) -> str:
        self.error = message
        log.error("setlist edit rejected, keeping the last good one: %s", message)
        return message
