"""Problems found in a setlist (errors and warnings), and SetlistError, which carries all of them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from perform.errors import PerformError

KeyPath = tuple  # ("scene", 1, "transition", "kind"): names and 0-based array indices


def format_key(path: KeyPath) -> str:
    """("scene", 2, "transition", "kind") -> "scene[2].transition.kind" (indices from 0, as /perform/scene/go)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The valid name the user most likely meant, or None."""
    found = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in a setlist, with where it is and what was expected."""

    severity: str  # "error" | "warning"
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key: str = ""  # formatted key path, e.g. scene[2].transition.kind
    expected: str | None = None
    hint: str | None = None  # e.g. "did you mean 'crossfade'?"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.file or "<setlist>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: "
        if self.key:
            text += f"{self.key}: "
        text += self.message
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class SetlistError(PerformError):
    """A setlist that cannot be used. Carries every problem found, not only the first.

    file, line, key, expected and hint describe the first error, for callers that show one line.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.is_error] or list(self.problems)
        first = errors[0] if errors else Problem("error", "invalid setlist")
        self.file = first.file
        self.line = first.line
        self.key = first.key
        self.expected = first.expected
        self.hint = first.hint
        super().__init__(self._text(errors))

    @staticmethod
    def _text(errors: Sequence[Problem]) -> str:
        if len(errors) <= 1:
            return str(errors[0]) if errors else "invalid setlist"
        return f"{len(errors)} errors in setlist:\n" + "\n".join(f"  {p}" for p in errors)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)


class Problems:
    """Collects problems while a setlist is read, resolving each key path to a line of the source."""

    def __init__(self, file: str | Path | None, locate=None) -> None:
        self.file = str(file) if file is not None else None
        self._locate = locate  # KeyPath -> line or None
        self.items: list[Problem] = []

    def line_of(self, path: KeyPath) -> int | None:
        return self._locate(tuple(path)) if self._locate is not None else None

    def add(self, severity: str, path: KeyPath, message: str, expected: str | None = None, hint: str | None = None,
            line: int | None = None, column: int | None = None) -> None:
        if line is None:
            line = self.line_of(path)
        self.items.append(Problem(severity, message, self.file, line, column, format_key(path), expected, hint))

    def error(self, path: KeyPath, message: str, expected: str | None = None, hint: str | None = None, **kw) -> None:
        self.add("error", path, message, expected, hint, **kw)

    def warn(self, path: KeyPath, message: str, expected: str | None = None, hint: str | None = None, **kw) -> None:
        self.add("warning", path, message, expected, hint, **kw)

    def unknown(self, path: KeyPath, key: str, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        guess = closest(key, valid)
        self.error(tuple(path) + (key,), f"unknown key {key!r}", expected="one of " + ", ".join(valid),
                   hint=f"did you mean {guess!r}?" if guess else None)

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise SetlistError(self.items)
