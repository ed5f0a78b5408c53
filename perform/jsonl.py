"""JSON-lines files (one JSON value a line) read back with line numbers; a crash's cut-off last line left out where asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


class JSONLinesError(ValueError):
    """A line that cannot be read: `line` is its number (from 1), `error` why (the JSON parser's or `parse`'s)."""

    def __init__(self, line: int, error: Exception) -> None:
        super().__init__(f"line {line}: {error}")
        self.line, self.error = line, error


def read_json_lines(path: Path, parse: Callable[[str], T] = json.loads, *, invalid: tuple[type[Exception], ...] = (),
                    allow_cut: bool = False) -> tuple[list[tuple[int, T]], int]:
    """(line number, parse(line)) for each line that is not blank, and the number of a cut-off last line (or 0).

    A line that is not JSON, or that `parse` refuses with one of `invalid`, raises JSONLinesError. With
    `allow_cut`, such a line that is the last one and has no newline after it is the write a crash interrupted
    (the lines before it were whole): it is left out and its number returned. OSError when the file cannot be read.
    """
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1 if allow_cut else len(data)
    try:  # a cut-off last line may end inside a character
        text = data[:end].decode("utf-8") + data[end:].decode("utf-8", errors="replace")
    except UnicodeDecodeError as exc:
        raise JSONLinesError(data[:exc.start].count(b"\n") + 1, ValueError(f"not UTF-8 text ({exc})")) from exc
    lines = text.split("\n")
    items: list[tuple[int, T]] = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append((no, parse(line)))
        except (json.JSONDecodeError, *invalid) as exc:
            if allow_cut and no == len(lines) and not text.endswith("\n"):
                return items, no
            raise JSONLinesError(no, exc) from exc
    return items, 0
