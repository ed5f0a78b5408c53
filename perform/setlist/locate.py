"""Finds the source line of a key path in TOML text, so schema errors can name a line as syntax errors do.

tomllib returns plain dicts without positions; this scanner reads table headers and `key =` lines and is
good enough for hand-written setlists (keys inside inline tables resolve to the line of their table).
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class KeyLocator:
    """Maps key paths (names and 0-based array indices) to 1-based line numbers of one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple, int] = {}
        self._scan(text)

    def __call__(self, path: tuple) -> int | None:
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    def _scan(self, text: str) -> None:
        counts: dict[tuple, int] = {}  # concrete path of an array of tables -> entries seen
        table: tuple = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if in_multiline in line:
                    in_multiline = None
                continue
            header = _HEADER.match(line)
            if header and header.group(1) == header.group(3)[::-1].replace("]", "["):
                names = _split_dotted(header.group(2))
                if header.group(1) == "[[":
                    concrete = self._resolve(names[:-1], counts) + (names[-1],)
                    idx = counts.get(concrete, 0)
                    counts[concrete] = idx + 1
                    concrete = concrete + (idx,)
                else:
                    concrete = self._resolve(names, counts)
                table = concrete
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = table + tuple(_split_dotted(key.group(1)))
                self._lines.setdefault(path, number)
                rest = line[key.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        in_multiline = quote

    @staticmethod
    def _resolve(names: list[str], counts: dict[tuple, int]) -> tuple:
        """Dotted header names -> concrete path, stepping into the latest entry of each array of tables."""
        path: tuple = ()
        for name in names:
            path = path + (name,)
            if path in counts:
                path = path + (counts[path] - 1,)
        return path
