"""GLSL sources from the shaders/ folder: finding it, #include, compiling, and hot reload by mtime."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import moderngl

from perform.errors import PerformError
from perform.resources import data_dir

log = logging.getLogger(__name__)

VERTEX_SHADER = "fullscreen.vert"
ENV_SHADER_DIR = "PERFORM_SHADER_DIR"
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
_MAX_INCLUDE_DEPTH = 8


class ShaderCompileError(PerformError):
    """A shader that failed to compile or link; carries the GLSL log."""

    def __init__(self, name: str, log_text: str) -> None:
        super().__init__(f"shader {name} failed to compile:\n{log_text.strip()}")
        self.name = name
        self.log = log_text.strip()


def find_shader_dir() -> Path:
    """The shaders/ folder: $PERFORM_SHADER_DIR, else the installed package's copy or a clone's folder."""
    candidates: list[Path] = []
    env = os.environ.get(ENV_SHADER_DIR)
    if env:
        candidates.append(Path(env))
    candidates.append(data_dir("shaders", VERTEX_SHADER))
    for c in candidates:
        if (c / VERTEX_SHADER).is_file():
            return c
    raise PerformError(
        "cannot find the shaders folder (looked for " + ", ".join(str(c / VERTEX_SHADER) for c in candidates)
        + f"); set {ENV_SHADER_DIR} to the folder holding the .frag files"
    )


@dataclass(frozen=True, slots=True)
class ShaderSource:
    """One shader file with its includes resolved, and the files it was built from."""

    name: str
    text: str
    files: tuple[Path, ...]


class ShaderLibrary:
    """Reads shader files and notices when they change on disk.

    `poll()` (the engine calls it a few times a second, never per frame) returns the names of shaders whose
    file, or a file they include, changed since they were last read. Reading is cheap; compiling is the
    owner's job (a pass), so a broken edit can be rejected while the last good program stays in use.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else find_shader_dir()
        if not self.directory.is_dir():
            raise PerformError(f"shader folder {self.directory} does not exist")
        self._stamps: dict[Path, tuple[int, int]] = {}
        self._deps: dict[str, tuple[Path, ...]] = {}

    def path(self, name: str) -> Path:
        return self.directory / name

    def names(self, suffix: str = ".frag") -> list[str]:
        return sorted(p.name for p in self.directory.glob(f"*{suffix}"))

    def load(self, name: str) -> ShaderSource:
        """The text of `name` with `#include "file"` lines replaced by that file's text."""
        files: list[Path] = []
        text = self._expand(name, files, depth=0)
        self._deps[name] = tuple(files)
        for f in files:
            self._stamps[f] = _stamp(f)
        return ShaderSource(name, text, tuple(files))

    def poll(self) -> set[str]:
        """Names of loaded shaders whose files changed since they were loaded (each reported once)."""
        changed_files = {f for f, st in self._stamps.items() if _stamp(f) != st}
        if not changed_files:
            return set()
        for f in changed_files:
            self._stamps[f] = _stamp(f)
        return {name for name, files in self._deps.items() if changed_files.intersection(files)}

    def _expand(self, name: str, files: list[Path], depth: int) -> str:
        if depth > _MAX_INCLUDE_DEPTH:
            raise PerformError(f"shader {name}: #include nested more than {_MAX_INCLUDE_DEPTH} deep (a cycle?)")
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PerformError(f"shader file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PerformError(f"cannot read shader file {path}: {exc}") from exc
        files.append(path)
        out: list[str] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = _INCLUDE.match(line)
            if m:
                out.append(self._expand(m.group(1), files, depth + 1))
                # keep the driver's error line numbers pointing into this file
                out.append(f"#line {lineno + 1}")
            else:
                out.append(line)
        return "\n".join(out) + "\n"


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


def build_program(ctx: moderngl.Context, library: ShaderLibrary, fragment: str,
                  vertex: str = VERTEX_SHADER, defines: Mapping[str, str] | None = None) -> moderngl.Program:
    """Compile and link one program; ShaderCompileError with the GLSL log if it fails.

    `defines` become `#define NAME value` lines after `#version`: variants of one file, chosen on the CPU,
    because on a software rasteriser both sides of a shader branch are paid for on every pixel.
    """
    vs = library.load(vertex)
    fs = library.load(fragment)
    try:
        return ctx.program(vertex_shader=vs.text, fragment_shader=_with_defines(fs.text, defines))
    except moderngl.Error as exc:
        raise ShaderCompileError(fragment, str(exc)) from None


def _with_defines(text: str, defines: Mapping[str, str] | None) -> str:
    if not defines:
        return text
    head, sep, rest = text.partition("\n")
    if not head.lstrip().startswith("#version"):
        head, sep, rest = "", "", text
    lines = "".join(f"#define {k} {v}\n" for k, v in defines.items())
    # #line 2 keeps the driver's error line numbers matching the file
    return f"{head}{sep}{lines}#line 2\n{rest}"


def compile_all(ctx: moderngl.Context, library: ShaderLibrary | None = None) -> list[ShaderCompileError]:
    """Compile every .frag in the library against the fullscreen vertex shader (for `perform check`)."""
    library = library or ShaderLibrary()
    errors: list[ShaderCompileError] = []
    for name in library.names(".frag"):
        vertex = _vertex_for(library, name)
        try:
            build_program(ctx, library, name, vertex).release()
        except ShaderCompileError as exc:
            errors.append(exc)
    return errors


def _vertex_for(library: ShaderLibrary, fragment: str) -> str:
    """A fragment shader `x.frag` pairs with `x.vert` when there is one, else the fullscreen triangle."""
    own = fragment.rsplit(".", 1)[0] + ".vert"
    return own if library.path(own).is_file() else VERTEX_SHADER
