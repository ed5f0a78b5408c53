"""Reads a TOML setlist into the frozen schema, collecting every problem with its file, line and key path."""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
import types
from pathlib import Path
from typing import Any, Iterable, Iterator

from perform.errors import PerformError
from perform.mapping.spec import NET_KINDS, check_target_syntax, parse_mapping
from perform.nets.bending.table import TARGET_HELP, TRANSFORMS, BendSpec, parse_target
from perform.render.passes import PASS_TYPES, coerce_param
from perform.setlist.curves import CURVES
from perform.setlist.locate import KeyLocator
from perform.setlist.paths import known_models, resolve_model, searched
from perform.setlist.problems import KeyPath, Problem, Problems, SetlistError, closest, format_key
from perform.setlist.schema import (BLEND_GROUPS, DRIVES, HOLD, INPUT_SYNTHETIC, PAIR_MODES, QUANTISE, TRANSITION_KINDS,
                                    ZERO, Advance, BlendSpec, Duration, MappingSource, PairSpec, Scene, Setlist,
                                    ShaderSpec, Show, TransitionSpec)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOP_KEYS = ("show", "scene")
SHOW_KEYS = ("title", "size", "fps", "tempo_bpm", "input", "defaults", "quantise", "beats_per_bar",
             "midi_scene_channel")
DEFAULT_KEYS = ("model", "drive", "shader", "mapping", "transition")
SCENE_KEYS = ("name", "model", "drive", "mix", "keyframes", "seeds", "keyframe_every", "mapping", "shader",
              "duration", "transition", "advance", "pair", "blend", "trajectory", "bend", "net")
BLEND_KEYS = ("with", "alpha", *BLEND_GROUPS, "swap", "swapped")
BEND_KEYS = ("name", "layer", "transform", "target", "seed", "params")
PAIR_KEYS = ("mode", "crossfade", "snapshot", "trajectory")
TRANSITION_KEYS = ("kind", "seconds", "beats", "curve")
DURATION_KEYS = ("seconds", "beats")
SHADER_KEYS = ("type", "name", "params")
ADVANCE_KEYS = ("osc", "keys", "at", "midi", "quantise")
# a MIDI trigger: "note.<ch>.<n>", "program.<ch>.<n>" or "cc.<ch>.<n>" (a leading "midi." is allowed)
MIDI_TRIGGER = re.compile(r"(?:midi\.)?(note|program|cc)\.(\d{1,2})\.(\d{1,3})")
MAX_SIZE = 8192
_MISSING = object()


def load_setlist(path: str | os.PathLike) -> Setlist:
    """Read and validate a setlist file. Raises SetlistError listing every problem (file, line, key)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SetlistError([_file_problem(p, "setlist file not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SetlistError([_file_problem(p, f"cannot read setlist: {e}")]) from None
    return parse_setlist(text, p)


def parse_setlist(text: str, path: str | os.PathLike | None = None) -> Setlist:
    """Validate setlist `text`; relative paths in it resolve against `path`'s folder (or the working folder)."""
    p = Path(path) if path is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line, col = _decode_position(e, text)
        msg = str(e).split(" (at line")[0]
        raise SetlistError([Problem("error", f"TOML syntax error: {msg}", _name(p), line, col)]) from None
    problems = Problems(p, KeyLocator(text))
    setlist = _Reader(problems, (p.parent if p is not None else Path.cwd()).resolve()).setlist(data, p)
    problems.raise_if_errors()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Setlist(setlist.path, setlist.show, setlist.scenes, digest, tuple(problems.items))


def _file_problem(p: Path, message: str) -> Problem:
    return Problem("error", message, str(p))


def _name(p: Path | None) -> str | None:
    return str(p) if p is not None else None


def _decode_position(e: Exception, text: str) -> tuple[int | None, int | None]:
    line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
    if line is None:  # tomllib before 3.12 only puts the position in the message
        m = re.search(r"at line (\d+), column (\d+)", str(e))
        if m:
            line, col = int(m.group(1)), int(m.group(2))
        elif "end of document" in str(e):
            line = text.count("\n") + 1
    return line, col


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _freeze(v: Any) -> Any:
    """Plain TOML values made read-only (tables -> mapping proxies, arrays -> tuples)."""
    if isinstance(v, dict):
        return types.MappingProxyType({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


class _Reader:
    """The parsing boundary: plain dicts in, schema out; every check reports to `problems` and carries on."""

    def __init__(self, problems: Problems, base: Path) -> None:
        self.p = problems
        self.base = base
        self._explicit_transitions: set[int] = set()  # scenes that set their own transition

    # ---- generic checks -------------------------------------------------------------------------------
    def table(self, v: Any, path: KeyPath, keys: Iterable[str]) -> dict:
        if not isinstance(v, dict):
            self.p.error(path, f"is a {_kind(v)}", expected="a table")
            return {}
        for k in v:
            if k not in keys:
                self.p.unknown(path, k, keys)
        return {k: x for k, x in v.items() if k in keys}

    def tables(self, v: Any, path: KeyPath, keys: Iterable[str], expected: str) -> Iterator[tuple[KeyPath, dict]]:
        """An array of tables ([[...]]): (key path, table) for each; anything else is reported and yields none."""
        if not (isinstance(v, list) and all(isinstance(t, dict) for t in v)):
            self.p.error(path, f"is {_show(v)}", expected=expected)
            return
        for i, raw in enumerate(v):
            yield path + (i,), self.table(raw, path + (i,), keys)

    def string(self, d: dict, key: str, path: KeyPath, default: Any = _MISSING, choices: Iterable[str] | None = None) -> Any:
        v = d.get(key, _MISSING)
        if v is _MISSING:
            if default is _MISSING:
                self.p.error(path + (key,), "is missing", expected="a string")
                return None
            return default
        if not isinstance(v, str):
            self.p.error(path + (key,), f"is a {_kind(v)}", expected="a string")
            return None if default is _MISSING else default
        if choices is not None and v not in choices:
            guess = closest(v, choices)
            self.p.error(path + (key,), f"{v!r} is not valid", expected="one of " + ", ".join(choices),
                         hint=f"did you mean {guess!r}?" if guess else None)
            return None if default is _MISSING else default
        return v

    def number(self, d: dict, key: str, path: KeyPath, default: Any, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False) -> Any:
        v = d.get(key, _MISSING)
        if v is _MISSING:
            return default
        if not _number(v) or not math.isfinite(v):
            self.p.error(path + (key,), f"is {_show(v)}", expected="a number")
            return default
        bad = (lo is not None and (v <= lo if lo_open else v < lo)) or (hi is not None and v > hi)
        if bad:
            rng = f"{'>' if lo_open else '>='} {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
            self.p.error(path + (key,), f"is {v:g}", expected=f"a number {rng}")
            return default
        return float(v)

    def string_list(self, d: dict, key: str, path: KeyPath) -> tuple[str, ...]:
        v = d.get(key, ())
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
            self.p.error(path + (key,), f"is {_show(v)}", expected="a string or an array of strings")
            return ()
        return tuple(v)

    def duration(self, v: Any, path: KeyPath, allow_hold: bool, allow_zero: bool) -> Duration | None:
        """4 | 4.0 (seconds) | "hold" | {seconds = 4} | {beats = 16}."""
        what = "a number of seconds, {seconds = ..}, {beats = ..}" + (' or "hold"' if allow_hold else "")
        if isinstance(v, str):
            if allow_hold and v == "hold":
                return HOLD
            self.p.error(path, f"is {v!r}", expected=what, hint="did you mean 'hold'?" if allow_hold and closest(v, ["hold"]) else None)
            return None
        if _number(v):
            return self._duration_value(v, path, "seconds", allow_zero)
        if isinstance(v, dict):
            d = self.table(v, path, DURATION_KEYS)
            if len(d) != 1:
                if d or not v:
                    self.p.error(path, "gives " + (" and ".join(d) if d else "no length"), expected="exactly one of seconds, beats")
                return None
            (unit, value), = d.items()
            return self._duration_value(value, path + (unit,), unit, allow_zero)
        self.p.error(path, f"is {_show(v)}", expected=what)
        return None

    def _duration_value(self, v: Any, path: KeyPath, unit: str, allow_zero: bool) -> Duration | None:
        if not _number(v) or not math.isfinite(v):
            self.p.error(path, f"is {_show(v)}", expected=f"a number of {unit}")
            return None
        if v < 0 or (v == 0 and not allow_zero):
            self.p.error(path, f"is {v:g} {unit}", expected=f"a {'non-negative' if allow_zero else 'positive'} length")
            return None
        return Duration(seconds=float(v)) if unit == "seconds" else Duration(beats=float(v))

    # ---- the show -------------------------------------------------------------------------------------
    def setlist(self, data: dict, path: Path | None) -> Setlist:
        top = self.table(data, (), TOP_KEYS)
        show, defaults = self.show(top.get("show", {}))
        scenes_raw = top.get("scene", _MISSING)
        scenes: list[Scene] = []
        if scenes_raw is _MISSING:
            self.p.error(("scene",), "the setlist has no scenes", expected="at least one [[scene]] table")
        elif not isinstance(scenes_raw, list):
            self.p.error(("scene",), f"is a {_kind(scenes_raw)}", expected="[[scene]] tables (an array of tables)")
        else:
            if not scenes_raw:
                self.p.error(("scene",), "is empty", expected="at least one [[scene]] table")
            for i, raw in enumerate(scenes_raw):
                scene = self.scene(raw, ("scene", i), defaults, show)
                if scene is not None:
                    scenes.append(scene)
        if len(scenes) == len(scenes_raw if isinstance(scenes_raw, list) else ()):
            self.across_scenes(scenes)
        return Setlist(path, show, tuple(scenes))

    def show(self, v: Any) -> tuple[Show, dict]:
        path: KeyPath = ("show",)
        d = self.table(v, path, SHOW_KEYS)
        title = self.string(d, "title", path, default="untitled")
        size = d.get("size", (1280, 720))
        if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and 16 <= x <= MAX_SIZE for x in size)):
            self.p.error(path + ("size",), f"is {_show(size)}", expected=f"[width, height] in pixels, each 16..{MAX_SIZE}")
            size = (1280, 720)
        fps = self.number(d, "fps", path, 30.0, 1.0, 240.0)
        tempo = self.number(d, "tempo_bpm", path, 120.0, 1.0, 999.0)
        inp = self.string(d, "input", path, default=INPUT_SYNTHETIC)
        input_path = None
        if inp and inp != INPUT_SYNTHETIC:
            input_path = (self.base / Path(os.path.expanduser(inp))).resolve()
            if not input_path.exists():
                self.p.warn(path + ("input",), f"rehearsal input {inp!r} not found (at {input_path})",
                            expected=f'"{INPUT_SYNTHETIC}", a session folder or a video file')
        defaults = self.table(d.get("defaults", {}), path + ("defaults",), DEFAULT_KEYS)
        quantise = self.string(d, "quantise", path, default="off", choices=QUANTISE) or "off"
        bar = self.number(d, "beats_per_bar", path, 4, 1, 64)
        if bar != int(bar):
            self.p.error(path + ("beats_per_bar",), f"is {bar:g}", expected="a whole number of beats")
        channel = self.number(d, "midi_scene_channel", path, None, 1, 16)
        if channel is not None and channel != int(channel):
            self.p.error(path + ("midi_scene_channel",), f"is {channel:g}", expected="a MIDI channel 1..16")
        show = Show(title or "untitled", (int(size[0]), int(size[1])), fps, tempo, inp or INPUT_SYNTHETIC, input_path,
                    quantise, int(bar), int(channel) if channel is not None else None)
        return show, defaults

    # ---- one scene ------------------------------------------------------------------------------------
    def scene(self, v: Any, path: KeyPath, defaults: dict, show: Show) -> Scene | None:
        d = self.table(v, path, SCENE_KEYS)
        if not isinstance(v, dict):
            return None
        dpath: KeyPath = ("show", "defaults")
        name = self.string(d, "name", path)
        model_key, model_path_kp = ("model", path) if "model" in d else ("model", dpath)
        src = d if "model" in d else defaults
        model = self.string(src, model_key, model_path_kp, default=None)
        model_path = None
        if model is None and "model" not in d and "model" not in defaults:
            self.p.error(path + ("model",), "is missing (and [show.defaults] gives no model)", expected="a model name or path, e.g. \"face-64\"")
        elif model is not None:
            model_path = resolve_model(model, self.base)
            if model_path is None:
                guess = closest(Path(model).stem, known_models(self.base))
                self.p.error(model_path_kp + (model_key,), f"model {model!r} not found (looked in {searched(self.base)})",
                             expected="a model stem, or a path to its .safetensors/.json",
                             hint=f"did you mean {guess!r}?" if guess else None)
        drive = self.string(d, "drive", path, default=self.string(defaults, "drive", dpath, default="both", choices=tuple(DRIVES)),
                            choices=tuple(DRIVES)) or "both"
        mix = DRIVES[drive]
        if "mix" in d:
            if drive != "both":
                self.p.warn(path + ("mix",), f"is ignored with drive = {drive!r}", expected='drive = "both"')
            else:
                mix = self.number(d, "mix", path, 0.5, 0.0, 1.0)
        keyframes, seeds = self.keyframes(d, path)
        every = None
        if "keyframe_every" in d:
            every = self.duration(d["keyframe_every"], path + ("keyframe_every",), allow_hold=False, allow_zero=False)
        mappings = self.mappings(d["mapping"], path + ("mapping",)) if "mapping" in d else \
            self.mappings(defaults["mapping"], dpath + ("mapping",)) if "mapping" in defaults else MappingSource()
        shaders = self.shaders(d["shader"], path + ("shader",)) if "shader" in d else \
            self.shaders(defaults["shader"], dpath + ("shader",)) if "shader" in defaults else ()
        duration = HOLD
        if "duration" in d:
            duration = self.duration(d["duration"], path + ("duration",), allow_hold=True, allow_zero=False) or HOLD
        else:
            self.p.warn(path + ("duration",), "not given: the scene holds until triggered", expected='seconds, beats or "hold"')
        if "transition" in d:
            self._explicit_transitions.add(path[-1])
        transition = self.transition(d["transition"], path + ("transition",)) if "transition" in d else \
            self.transition(defaults["transition"], dpath + ("transition",)) if "transition" in defaults else TransitionSpec()
        advance = self.advance(d.get("advance", {}), path + ("advance",))
        pair = self.pair(d.get("pair", {}), path + ("pair",))
        blend = self.blend(d["blend"], path + ("blend",)) if "blend" in d else None
        trajectory = self.number(d, "trajectory", path, None, 0.0, 1.0)
        bends = self.bends(d.get("bend", []), path + ("bend",))
        net = self.net(d.get("net", {}), path + ("net",))
        if name is None:
            return None
        return Scene(name=name, model=model or "", model_path=model_path, drive=drive, mix=mix, keyframes=keyframes,
                     seeds=seeds, keyframe_every=every, mappings=mappings, shaders=shaders, duration=duration,
                     transition=transition, advance=advance, pair=pair, bends=bends, net=net,
                     line=self.p.line_of(path), blend=blend, trajectory=trajectory)

    def keyframes(self, d: dict, path: KeyPath) -> tuple[tuple[tuple[float, ...], ...], tuple[int, ...]]:
        frames: tuple = ()
        seeds: tuple = ()
        if "keyframes" in d and "seeds" in d:
            self.p.error(path + ("seeds",), "given together with keyframes", expected="either keyframes (vectors) or seeds")
        if "keyframes" in d:
            v = d["keyframes"]
            ok = isinstance(v, list) and v and all(isinstance(k, list) and k and all(_number(x) and math.isfinite(x) for x in k) for k in v)
            if not ok:
                self.p.error(path + ("keyframes",), f"is {_show(v)}", expected="an array of latent vectors, e.g. [[0.1, -0.3, ...], ...]")
            elif len({len(k) for k in v}) != 1:
                self.p.error(path + ("keyframes",), f"vectors have different lengths {sorted({len(k) for k in v})}",
                             expected="every vector as long as the model's latent")
            else:
                frames = tuple(tuple(float(x) for x in k) for k in v)
        if "seeds" in d:
            v = d["seeds"]
            if isinstance(v, int) and not isinstance(v, bool):
                v = [v]
            if not (isinstance(v, list) and v and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in v)):
                self.p.error(path + ("seeds",), f"is {_show(v)}", expected="an array of non-negative integers")
            else:
                seeds = tuple(v)
        return frames, seeds

    def mappings(self, v: Any, path: KeyPath) -> MappingSource:
        if isinstance(v, str):
            file = (self.base / Path(os.path.expanduser(v))).resolve()
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self.p.error(path, f"mapping file {v!r} not found (at {file})", expected="a TOML file of [[mapping]] tables")
                return MappingSource(file=file)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                self.p.error(path, f"mapping file {v!r} cannot be read: {e}")
                return MappingSource(file=file)
            tables = data.get("mapping", [])
            if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
                self.p.error(path, f"mapping file {v!r} has no [[mapping]] tables")
                return MappingSource(file=file)
            return self._mapping_specs(tables, path, file)
        if isinstance(v, list) and all(isinstance(t, dict) for t in v):
            return self._mapping_specs(v, path, None)
        self.p.error(path, f"is {_show(v)}", expected="[[scene.mapping]] tables, or the path of a mapping file")
        return MappingSource()

    def _mapping_specs(self, tables: list, path: KeyPath, file: Path | None) -> MappingSource:
        """Parse with perform.mapping's own schema (its messages name the key, which becomes the key path)."""
        specs: list[Any] = []
        for i, t in enumerate(tables):
            where = f"{file}: [[mapping]] #{i + 1}" if file is not None else f"{self.p.file}: {format_key(path + (i,))}"
            try:
                specs.append(parse_mapping(t, where))
            except PerformError as e:
                msg = str(e).removeprefix(where + ": ")
                if file is not None:  # the problem is in the mapping file; the setlist line says who uses it
                    self.p.error(path, f"{file.name} [[mapping]] #{i + 1}: {msg}")
                    continue
                key = re.match(r"key '([^']+)'", msg)
                self.p.error(path + (i,) + ((key.group(1),) if key else ()), msg)
        return MappingSource(tuple(_freeze(t) for t in tables), file, tuple(specs))

    def shaders(self, v: Any, path: KeyPath) -> tuple[ShaderSpec, ...]:
        out: list[ShaderSpec] = []
        names: set[str] = set()
        for at, d in self.tables(v, path, SHADER_KEYS, "[[scene.shader]] tables with type, name, params"):
            kind = self.string(d, "type", at)
            name = self.string(d, "name", at, default=kind)
            raw_params = d.get("params", {})
            params = raw_params if isinstance(raw_params, dict) else self.table(raw_params, at + ("params",), ())
            if kind is not None:
                params = self.shader_params(kind, params, at)
            if name in names:
                self.p.error(at + ("name",), f"pass name {name!r} is used twice in this chain", expected="a unique name per pass")
            if kind is not None and name is not None:
                names.add(name)
                out.append(ShaderSpec(kind, name, _freeze(params)))
        return tuple(out)

    def shader_params(self, kind: str, params: dict, path: KeyPath) -> dict:
        """Check a pass type and its parameters against perform.render's registry (no GL needed)."""
        cls = PASS_TYPES.get(kind)
        if cls is None:
            guess = closest(kind, PASS_TYPES)
            self.p.error(path + ("type",), f"unknown shader pass type {kind!r}", expected="one of " + ", ".join(PASS_TYPES),
                         hint=f"did you mean {guess!r}?" if guess else None)
            return params
        good = {}
        for k, x in params.items():
            if k not in cls.params:
                guess = closest(k, cls.params)
                self.p.error(path + ("params", k), f"{kind} has no parameter {k!r}",
                             expected="one of " + (", ".join(cls.params) or "none"), hint=f"did you mean {guess!r}?" if guess else None)
                continue
            try:
                coerce_param(kind, k, x)
            except PerformError as e:
                self.p.error(path + ("params", k), str(e).split(": ", 1)[-1])
                continue
            good[k] = x
        return good

    def transition(self, v: Any, path: KeyPath) -> TransitionSpec:
        if isinstance(v, str):
            v = {"kind": v}
        d = self.table(v, path, TRANSITION_KEYS)
        kind = self.string(d, "kind", path, default="cut", choices=TRANSITION_KINDS) or "cut"
        curve = self.string(d, "curve", path, default="linear", choices=tuple(CURVES)) or "linear"
        timed = {k: d[k] for k in DURATION_KEYS if k in d}
        duration = ZERO
        if len(timed) > 1:
            self.p.error(path + ("beats",), "given together with seconds", expected="one of seconds, beats")
        elif timed:
            duration = self.duration(timed, path, allow_hold=False, allow_zero=True) or ZERO
        if kind != "cut" and duration == ZERO and "seconds" not in d and "beats" not in d:
            self.p.error(path, f"a {kind} needs a length", expected="seconds = .. or beats = ..")
        if kind == "cut" and d.get("kind", "cut") == "cut" and duration != ZERO:
            self.p.warn(path, f"a cut has no length; {duration} is ignored", expected='kind = "crossfade" or "latent"')
        return TransitionSpec(kind, duration, curve)

    def advance(self, v: Any, path: KeyPath) -> Advance:
        d = self.table(v, path, ADVANCE_KEYS)
        osc = self.string_list(d, "osc", path)
        for j, a in enumerate(osc):
            if not a.startswith("/"):
                self.p.error(path + ("osc",), f"address {a!r} does not start with '/'", expected="an OSC address like /cue/drop")
        keys = self.string_list(d, "keys", path)
        at = self.number(d, "at", path, None, 0.0)
        midi = []
        for name in self.string_list(d, "midi", path):
            m = MIDI_TRIGGER.fullmatch(name.strip())
            if not m or not 1 <= int(m.group(2)) <= 16 or int(m.group(3)) > 127:
                self.p.error(path + ("midi",), f"{name!r} is not a MIDI trigger",
                             expected='"note.<channel>.<note>", "program.<channel>.<program>" or "cc.<channel>.<controller>" '
                                      '(channel 1..16, numbers 0..127), e.g. "note.1.36"')
            else:
                midi.append(f"{m.group(1)}.{int(m.group(2))}.{int(m.group(3))}")
        quantise = self.string(d, "quantise", path, default=None, choices=QUANTISE)
        return Advance(osc, keys, at, tuple(midi), quantise)

    def pair(self, v: Any, path: KeyPath) -> PairSpec:
        d = self.table(v, path, PAIR_KEYS)
        mode = self.string(d, "mode", path, default="side_by_side", choices=PAIR_MODES) or "side_by_side"
        crossfade = self.number(d, "crossfade", path, 0.5, 0.0, 1.0)
        snapshot = self.number(d, "snapshot", path, 1.0, 0.0, 1.0)
        trajectory = None
        if "trajectory" in d:
            trajectory = self.duration(d["trajectory"], path + ("trajectory",), allow_hold=False, allow_zero=False)
        return PairSpec(mode, crossfade, snapshot, trajectory)

    def blend(self, v: Any, path: KeyPath) -> BlendSpec | None:
        d = self.table(v, path, BLEND_KEYS)
        if not isinstance(v, dict):
            return None
        other = self.string(d, "with", path)
        other_path = None
        if other is not None:
            other_path = resolve_model(other, self.base)
            if other_path is None:
                guess = closest(Path(other).stem, known_models(self.base))
                self.p.error(path + ("with",), f"model {other!r} not found (looked in {searched(self.base)})",
                             expected="the model to blend with: a model stem, or a path to its .safetensors/.json",
                             hint=f"did you mean {guess!r}?" if guess else None)
        alpha = self.number(d, "alpha", path, 0.5, 0.0, 1.0)
        shifts = tuple((g, self.number(d, g, path, 0.0, -1.0, 1.0)) for g in BLEND_GROUPS if g in d)
        swap = self.string_list(d, "swap", path)
        swapped = d.get("swapped", True)
        if not isinstance(swapped, bool):
            self.p.error(path + ("swapped",), f"is {_show(swapped)}", expected="true or false")
            swapped = True
        return BlendSpec(other or "", other_path, alpha, shifts, swap, swapped)

    def bends(self, v: Any, path: KeyPath) -> tuple[BendSpec, ...]:
        """[[scene.bend]] tables; the layer and a cluster target are checked against the model by `perform check`."""
        out: list[BendSpec] = []
        names: set[str] = set()
        for at, d in self.tables(v, path, BEND_KEYS, "[[scene.bend]] tables with name, layer, transform, target, params"):
            name = self.string(d, "name", at)
            layer = self.string(d, "layer", at)
            transform = self.string(d, "transform", at, choices=tuple(TRANSFORMS))
            target = self.string(d, "target", at, default="all")
            if target is not None and parse_target(target) is None:
                self.p.error(at + ("target",), f"{target!r} is not a bend target", expected=TARGET_HELP)
                target = None
            seed = d.get("seed", 0)
            if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2 ** 63):
                self.p.error(at + ("seed",), f"is {_show(seed)}", expected="a non-negative integer")
                seed = None
            if name is not None and not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", name):
                self.p.error(at + ("name",), f"{name!r} cannot be an OSC address part",
                             expected="letters, digits, '_' or '-' (it becomes /perform/bend/<name>/<param>)")
                name = None
            elif name in names:
                self.p.error(at + ("name",), f"bend name {name!r} is used twice in this scene", expected="a unique name per bend")
                name = None
            params: dict[str, float] = {}
            raw_params = d.get("params", {})
            if not isinstance(raw_params, dict):
                self.p.error(at + ("params",), f"is {_show(raw_params)}", expected="a table of parameter values")
            elif transform is not None:
                spec = TRANSFORMS[transform]
                for k in raw_params:
                    if k not in spec.params:
                        guess = closest(k, spec.params)
                        self.p.error(at + ("params", k), f"{transform} has no parameter {k!r}",
                                     expected="one of " + ", ".join(spec.params), hint=f"did you mean {guess!r}?" if guess else None)
                        continue
                    q = spec.params[k]
                    x = self.number(raw_params, k, at + ("params",), None, q.low, q.high)
                    if x is not None:
                        params[k] = x
            if None in (name, layer, transform, target, seed):
                continue
            names.add(name)
            out.append(BendSpec(name, layer, transform, target, seed, tuple(sorted(params.items()))))
        return tuple(out)

    def net(self, v: Any, path: KeyPath) -> tuple[tuple[str, float], ...]:
        """[scene.net]: `blend.alpha = 0.5`, `trajectory.position = 0.2`, `bend.warp.angle = 90` (TOML's dotted
        keys nest; they are joined back here). Checked against the scene's model by `perform check`."""
        if not isinstance(v, dict):
            self.p.error(path, f"is {_show(v)}", expected="a table of live network parameter values")
            return ()
        flat: dict[str, Any] = {}

        def walk(d: dict, prefix: str) -> None:
            for k, x in d.items():
                if isinstance(x, dict):
                    walk(x, f"{prefix}{k}.")
                else:
                    flat[f"{prefix}{k}"] = x

        walk(v, "")
        out = []
        for name, x in flat.items():
            kp = path + tuple(name.split("."))
            if name.partition(".")[0] not in NET_KINDS:
                self.p.error(kp, f"{name!r} is not a live network parameter",
                             expected="bend.<name>.<param>, blend.alpha, blend.alpha.<group>, blend.swap or trajectory.position")
                continue
            try:
                check_target_syntax(name, "")
            except PerformError as e:
                self.p.error(kp, str(e).split("unknown target ", 1)[-1].split(";")[0] + " is not a live network parameter",
                             expected="bend.<name>.<param>, blend.alpha, blend.alpha.<coarse|middle|fine>, blend.swap or trajectory.position")
                continue
            if not _number(x) or not math.isfinite(x):
                self.p.error(kp, f"is {_show(x)}", expected="a number")
                continue
            out.append((name, float(x)))
        return tuple(sorted(out))

    # ---- across scenes --------------------------------------------------------------------------------
    def across_scenes(self, scenes: list[Scene]) -> None:
        declared: dict[Path, int] = {}  # a model file -> the first scene using it
        for i, s in enumerate(scenes):  # one live model per model file: its scenes must build it alike
            if s.model_path is None:
                continue
            first = declared.setdefault(s.model_path, i)
            if first != i and scenes[first].model_declaration() != s.model_declaration():
                key = "blend" if (s.blend is not None or scenes[first].blend is not None) else "trajectory"
                self.p.error(("scene", i, key), f"scene {s.name!r} declares model {s.model!r} differently from scene "
                             f"{scenes[first].name!r} (blend and trajectory values)",
                             expected="the same blend / trajectory in every scene on one model file",
                             hint="the scenes share one live model: repeat the declaration and vary blend.alpha / "
                                  "trajectory.position with mappings, or use a copy of the model file for one of them")
        seen: dict[str, int] = {}
        for i, s in enumerate(scenes):
            if s.name in seen:
                self.p.error(("scene", i, "name"), f"scene name {s.name!r} is also scene[{seen[s.name]}]'s", expected="unique scene names")
            seen.setdefault(s.name, i)
            if s.name.strip().isdigit():
                self.p.error(("scene", i, "name"), f"{s.name!r} is a number", expected="a name with a letter (numbers select scenes by position)")
        bends: dict[tuple, tuple[int, int, tuple]] = {}  # (model, bend name) -> (scene, bend, structure)
        for i, s in enumerate(scenes):
            for j, b in enumerate(s.bends):
                first = bends.setdefault((s.model_path, b.name), (i, j, b.structure))
                if first[2] != b.structure:
                    self.p.error(("scene", i, "bend", j, "name"),
                                 f"bend {b.name!r} on model {s.model!r} is also scene[{first[0]}]'s, with another "
                                 "layer, transform, target or seed",
                                 expected="one bend per name on a model (scenes may give it other params)")
        for i, s in enumerate(scenes):
            t = s.transition
            if t.kind == "latent":
                if i + 1 < len(scenes) and scenes[i + 1].model_path != s.model_path:
                    self.p.error(("scene", i, "transition", "kind"),
                                 f"a latent transition needs the same model on both sides ({s.model!r} -> {scenes[i + 1].model!r})",
                                 expected='"crossfade" between different models')
            if t.kind != "cut" and i + 1 == len(scenes) and i in self._explicit_transitions:
                self.p.warn(("scene", i, "transition"), "the last scene's transition is used only when jumping from it")


def _kind(v: Any) -> str:
    return {dict: "table", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    text = repr(v)
    return f"{_kind(v)} {text if len(text) <= 40 else text[:37] + '...'}"
