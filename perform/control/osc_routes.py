"""The OSC address space under /perform/: one routing table, validation, wildcards; no transport here.

`Router.route(address, args, t_s)` turns one incoming message into ControlEvents with canonical
arguments, or raises `Rejected(kind, detail)`. Handlers only produce events. Each route names its owner
(`target`: held value, scheduler, conductor or mappings) and the `action` that owner applies; owners
dispatch on `route_for(event.address)`, so a new address is one row here plus its action in its owner.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from perform.control.events import ControlEvent
from perform.mapping.spec import NET_KINDS  # live network parameters: one list, with the mapping targets

PREFIX = "/perform"
_NAME = r"[A-Za-z0-9_\-]{1,64}"
_WILDCARD_CHARS = frozenset("*?[]{}")
MAX_LATENT_DIM = 4096
_NUMBERED = ("i", "ch", "n")  # address parts that are numbers: a latent index, a MIDI channel, a note or controller


class Rejected(Exception):
    """A message the table refuses; `kind` is one of perform.control.stats.DROP_KINDS."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class Ignored(Exception):
    """A message accepted but meaning nothing, e.g. a button's release (0) on a trigger address."""


# ---- argument coercion: float, int and bool are accepted wherever a number is expected ----

def _number(v: object, address: str) -> float:
    if isinstance(v, (bool, int, float)):
        x = float(v)
        if not math.isfinite(x):
            raise Rejected("out_of_range", f"{address}: {v!r} is not a finite number")
        return x
    raise Rejected("wrong_type", f"{address}: expected a number (f, i or T/F), got {type(v).__name__} {v!r:.40}")


def _unit(v: object, address: str) -> float:
    x = _number(v, address)
    if not 0.0 <= x <= 1.0:
        raise Rejected("out_of_range", f"{address}: {x:g} outside 0..1")
    return x


def _one(args: tuple, address: str) -> object:
    if len(args) != 1:
        raise Rejected("wrong_type", f"{address}: expected 1 argument, got {len(args)}")
    return args[0]


def _args_unit(args: tuple, address: str, _m: dict) -> tuple:
    return (_unit(_one(args, address), address),)


def _args_input(args: tuple, address: str, _m: dict) -> tuple:
    x = _number(_one(args, address), address)
    if abs(x) > 1e6:
        raise Rejected("out_of_range", f"{address}: {x:g} beyond ±1e6")
    return (x,)


def _args_latent_many(args: tuple, address: str, m: dict) -> tuple:
    if not args:
        raise Rejected("wrong_type", f"{address}: expected 1 or more floats, got none")
    limit = m.get("latent_dim") or MAX_LATENT_DIM
    if len(args) > limit:
        raise Rejected("out_of_range", f"{address}: {len(args)} values for a {limit}-dimensional latent")
    return tuple(_unit(v, address) for v in args)


def _args_trigger(args: tuple, address: str, _m: dict) -> tuple:
    # a TouchOSC/Max button sends 1 on press and 0 on release: fire on press only
    if args and _number(args[0], address) == 0.0:
        raise Ignored(address)
    return ()


def _args_beat(args: tuple, address: str, _m: dict) -> tuple:
    if not args:
        return ()
    v = args[0]
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,)  # a beat count; 0 is a real beat
    if _number(v, address) == 0.0:
        raise Ignored(address)
    return ()


def _args_switch(args: tuple, address: str, _m: dict) -> tuple:
    if not args:
        return ()  # toggle
    return (_number(_one(args, address), address) != 0.0,)


def _args_scene_go(args: tuple, address: str, _m: dict) -> tuple:
    v = _one(args, address)
    if isinstance(v, str):
        if not 0 < len(v) <= 128:
            raise Rejected("out_of_range", f"{address}: scene name must be 1..128 characters")
        return (v,)
    x = _number(v, address)
    if x != int(x) or x < 0:
        raise Rejected("out_of_range", f"{address}: scene index {x:g} is not a whole number >= 0")
    return (int(x),)


def _args_tempo(args: tuple, address: str, _m: dict) -> tuple:
    x = _number(_one(args, address), address)
    if not 20.0 <= x <= 400.0:
        raise Rejected("out_of_range", f"{address}: tempo {x:g} bpm outside 20..400")
    return (x,)


def _midi_numbers(address: str) -> None:
    """/perform/midi/<kind>/<ch>[/<n>]: a channel 1..16 and a note or controller number 0..127."""
    parts = address.split("/")
    if not 1 <= int(parts[4]) <= 16:
        raise Rejected("out_of_range", f"{address}: MIDI channel {parts[4]} outside 1..16")
    if len(parts) > 5 and not 0 <= int(parts[5]) <= 127:
        raise Rejected("out_of_range", f"{address}: {parts[3]} number {parts[5]} outside 0..127")


def _args_midi_unit(args: tuple, address: str, _m: dict) -> tuple:
    _midi_numbers(address)
    return (_unit(_one(args, address), address),)


def _args_midi_bend(args: tuple, address: str, _m: dict) -> tuple:
    _midi_numbers(address)
    x = _number(_one(args, address), address)
    if not -1.0 <= x <= 1.0:
        raise Rejected("out_of_range", f"{address}: {x:g} outside -1..1")
    return (x,)


def _args_midi_program(args: tuple, address: str, _m: dict) -> tuple:
    _midi_numbers(address)
    x = _number(_one(args, address), address)
    if x != int(x) or not 0 <= x <= 127:
        raise Rejected("out_of_range", f"{address}: program {x:g} is not a whole number 0..127")
    return (int(x),)


def _args_learn(args: tuple, address: str, _m: dict) -> tuple:
    if not args:
        return ()
    v = _one(args, address)
    if not isinstance(v, str) or not 0 < len(v) <= 128:
        raise Rejected("wrong_type", f"{address}: expected a mapping target name (string), got {v!r:.40}")
    return (v,)


def _args_release(args: tuple, address: str, _m: dict) -> tuple:
    if not args:
        return ("*",)
    v = _one(args, address)
    if not isinstance(v, str) or not 0 < len(v) <= 128:
        raise Rejected("wrong_type", f"{address}: expected a target name or pattern (string), got {v!r:.40}")
    return (v,)


ArgsFn = Callable[[tuple, str, dict], tuple]


# Who applies a route's events: one owner per control (docs/architecture.md, "Who owns what").
HELD = "held"            # ControlState (control/state.py) keeps the latest value, or ends holds; mappings read it
SCHEDULER = "scheduler"  # SceneScheduler (setlist/scheduler.py): scenes and the tempo
CONDUCTOR = "conductor"  # Conductor (engine/conductor.py): freeze and blackout
MAPPING = "mapping"      # every scene's MappingEngine (mapping/engine.py), through the conductor: the beat phase
LEARN = "learn"          # MidiLearn (control/learn.py), live only: arms a target; the next MIDI control is mapped to it
TARGETS = (HELD, SCHEDULER, CONDUCTOR, MAPPING, LEARN)


@dataclass(frozen=True, slots=True)
class Route:
    """One declared address and who applies it.

    target: the owner (one of TARGETS); action: what the owner does, by name (its handler's key).
    hold: for value routes, the held value it sets, e.g. 'latent.{i}' (latest wins, wildcards reach them);
    commands hold nothing and are applied once. owner_answers: the owner, not the server, sends the one
    reply (a scene name is checked against the running setlist).
    """

    address: str
    args: str
    range: str
    help: str
    coerce: ArgsFn
    target: str
    action: str
    hold: str | None = None
    owner_answers: bool = False

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"route {self.address}: target {self.target!r} is not one of {TARGETS}")

    @property
    def value(self) -> bool:
        return self.hold is not None

    @property
    def regex(self) -> re.Pattern[str]:
        return _route_regex(self.address)


@functools.lru_cache(maxsize=None)
def _route_regex(address: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(<\w+>)", address):
        if part.startswith("<"):
            name = part[1:-1]
            out.append(rf"(?P<{name}>\d{{1,4}})" if name in _NUMBERED else rf"(?P<{name}>{_NAME})")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


P = PREFIX


def _held(address: str, range_: str, help_: str, hold: str) -> Route:
    """A value route of one float (normalised 0..1 unless `range_` says otherwise) that sets a held value."""
    return Route(address, "f", range_, help_, _args_unit, HELD, "hold", hold)


ROUTES: tuple[Route, ...] = (
    _held(f"{P}/latent/<i>", "0..1",
          "latent coordinate i; 0.5 is the origin, 0 and 1 are -span and +span (default 3 sd)",
          "latent.{i}"),
    Route(f"{P}/latent", "f f ...", "0..1 each", "latent coordinates 0, 1, 2, ... at once, as /perform/latent/<i>",
          _args_latent_many, HELD, "hold", "latent.*"),
    _held(f"{P}/direction/<name>", "0..1",
          "move along the model card's named direction; 0.5 is no move, ends are -span/+span",
          "direction.{name}"),
    _held(f"{P}/mix", "0..1", "face-to-latent mix: 0 control latent only, 1 the performer's face only", "mix"),
    _held(f"{P}/shader/<pass>/<param>", "0..1",
          "shader parameter, normalised; the pass declares its real range",
          "shader.{pass}.{param}"),
    _held(f"{P}/bend/<name>/<param>", "0..1", "a bend's live parameter ([[scene.bend]] name), normalised; the "
          "transform declares its real range (`perform clusters MODEL --list` lists layers)", "bend.{name}.{param}"),
    _held(f"{P}/blend/alpha", "0..1",
          "weight blend between a scene's two models: 0 the first, 1 the second",
          "blend.alpha"),
    _held(f"{P}/blend/alpha/<group>", "0..1",
          "shift of one layer group's blend (coarse, middle or fine) from blend.alpha: 0..1 onto -1..1, 0.5 = none",
          "blend.alpha.{group}"),
    _held(f"{P}/blend/swap", "0 or 1",
          "layer swap off (0) or on (1): the chosen layers from the second model",
          "blend.swap"),
    _held(f"{P}/trajectory", "0..1",
          "position along a run's snapshots: 0 the first, 1 the last",
          "trajectory.position"),
    Route(f"{P}/in/<name>", "f", "any finite (|x| <= 1e6); 0..1 by convention",
          "generic named input for mappings (source \"in.<name>\"); the mapping's `in` range reads it",
          _args_input, HELD, "hold", "in.{name}"),
    _held(f"{P}/key/<name>", "0..1", "a key held (1) or released (0); mapping source \"key.<name>\"", "key.{name}"),
    Route(f"{P}/midi/cc/<ch>/<n>", "f", "0..1", "MIDI control change (channel 1..16, controller 0..127), normalised; "
          "a 14-bit pair (n and n+32) arrives here as one finer value; mapping source \"midi.cc.<ch>.<n>\"",
          _args_midi_unit, HELD, "hold", "midi.cc.{ch}.{n}"),
    Route(f"{P}/midi/note/<ch>/<n>", "f", "0..1", "MIDI note velocity / 127, 0 on note off; mapping source "
          "\"midi.note.<ch>.<n>\", a scene trigger on note on", _args_midi_unit, HELD, "hold", "midi.note.{ch}.{n}"),
    Route(f"{P}/midi/bend/<ch>", "f", "-1..1", "MIDI pitch bend, 0 at rest; mapping source \"midi.bend.<ch>\"",
          _args_midi_bend, HELD, "hold", "midi.bend.{ch}"),
    Route(f"{P}/midi/program/<ch>", "i", "0..127", "MIDI program change; mapping source \"midi.program.<ch>\" "
          "(program / 127), a scene trigger", _args_midi_program, HELD, "hold", "midi.program.{ch}"),
    Route(f"{P}/release", "[s]", "target name or pattern", "end direct holds (all, or those matching e.g. \"latent.*\"); mappings take over again",
          _args_release, HELD, "release"),
    Route(f"{P}/scene/next", "[f]", "", "next scene (a button's 0 release is ignored)", _args_trigger, SCHEDULER, "next"),
    Route(f"{P}/scene/prev", "[f]", "", "previous scene", _args_trigger, SCHEDULER, "prev"),
    Route(f"{P}/scene/go", "i|s", "index >= 0 or name", "go to a scene by index (from 0) or by name", _args_scene_go,
          SCHEDULER, "go", owner_answers=True),
    Route(f"{P}/freeze", "[b|i|f]", "nonzero = on", "hold the current image; no argument toggles", _args_switch, CONDUCTOR, "freeze"),
    Route(f"{P}/blackout", "[b|i|f]", "nonzero = on", "fade to black; no argument toggles", _args_switch, CONDUCTOR, "blackout"),
    Route(f"{P}/tempo", "f", "20..400 bpm", "tempo for beat-synced LFOs, keyframe walks and lengths in beats", _args_tempo,
          SCHEDULER, "tempo"),
    Route(f"{P}/beat", "[i|f]", "beat count", "a beat happened now: re-phases beat-synced LFOs (and the beat grid "
          "quantised scene changes wait for)", _args_beat, MAPPING, "beat"),
    Route(f"{P}/learn", "[s]", "target name or \"off\"", "MIDI learn (live): arm a target (latent.<i>, direction.<name>, "
          "mix, shader.<pass>.<param>; none: the last one touched over OSC), then move a MIDI control: the mapping is "
          "written into the setlist", _args_learn, LEARN, "arm"),
)
ROUTES_BY_ADDRESS = {r.address: r for r in ROUTES}
# commands whose outcome only their owner knows: it sends their one reply, 'ok' or 'error' with the reason,
# and the server does not say 'ok' first
ENGINE_ANSWERED = frozenset(r.address for r in ROUTES if r.owner_answers)


@functools.lru_cache(maxsize=512)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """An OSC 1.0 address pattern (* ? [abc] [!a-z] {foo,bar}) as a regex over one address."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                raise Rejected("malformed", f"{pattern}: unclosed '['")
            body = pattern[i + 1:j]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
            i = j
        elif c == "{":
            j = pattern.find("}", i)
            if j < 0:
                raise Rejected("malformed", f"{pattern}: unclosed '{{'")
            out.append("(?:" + "|".join(re.escape(s) for s in pattern[i + 1:j].split(",")) + ")")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as e:
        raise Rejected("malformed", f"{pattern}: bad pattern ({e})") from None


def is_pattern(address: str) -> bool:
    return any(c in _WILDCARD_CHARS for c in address)


class Router:
    """Validates incoming messages against ROUTES and what the engine declared.

    Declared context (from the model, the setlist and the mappings) narrows the table: latent
    indices below latent_dim, direction names of the model card, shader (pass, param) pairs. Until a
    kind is declared, any well-formed name is accepted. Input names are learnt as they arrive (up to
    `max_inputs`), so a wildcard such as /perform/in/fader* reaches every input seen or declared.
    Thread-safe: the OSC thread routes while the engine declares.
    """

    def __init__(self, *, latent_dim: int | None = None, directions: Iterable[str] | None = None,
                 shader_params: Iterable[tuple[str, str]] | None = None, inputs: Iterable[str] = (),
                 max_inputs: int = 1024, net_params: Iterable[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._max_inputs = max_inputs
        self._ctx: dict = {}
        self._inputs: set[str] = set()
        self._keys: set[str] = set()
        self._concrete: tuple[str, ...] | None = None
        self._matches: dict[str, tuple[Route, dict[str, str]]] = {}
        self._cues: frozenset[str] = frozenset()
        self.declare(latent_dim=latent_dim, directions=directions, shader_params=shader_params, inputs=inputs,
                     net_params=net_params)

    def declare(self, *, latent_dim: int | None = None, directions: Iterable[str] | None = None,
                shader_params: Iterable[tuple[str, str]] | None = None, inputs: Iterable[str] = (),
                net_params: Iterable[str] | None = None, cues: Iterable[str] | None = None) -> None:
        """Narrow the table to what exists; None leaves that kind as it was. net_params: the live network
        parameter names (bend.<name>.<param>, blend.alpha, ...) the show's models declare. cues: the setlist's
        scene triggers (advance.osc), any addresses, e.g. /cue/drop: accepted as triggers (a 0 release ignored)."""
        if cues is not None:  # those under /perform/ route as what they are (a key, an input) and reach it anyway;
            # one reference replaced whole: route() reads it without the lock
            self._cues = frozenset(c for c in cues if not c.startswith(P + "/"))
        with self._lock:
            if latent_dim is not None:
                if not 0 < latent_dim <= MAX_LATENT_DIM:
                    raise ValueError(f"latent_dim {latent_dim} outside 1..{MAX_LATENT_DIM}")
                self._ctx["latent_dim"] = int(latent_dim)
            if directions is not None:
                self._ctx["directions"] = frozenset(directions)
            if shader_params is not None:
                self._ctx["shader_params"] = frozenset((str(a), str(b)) for a, b in shader_params)
            if net_params is not None:
                self._ctx["net_params"] = frozenset(net_params)
            for name in inputs:
                if re.fullmatch(_NAME, name):
                    self._inputs.add(name)
            self._concrete = None

    def concrete_addresses(self) -> tuple[str, ...]:
        """Every declared or seen value address: what wildcards expand over."""
        with self._lock:
            if self._concrete is None:
                out: list[str] = [f"{P}/mix"]
                out += [f"{P}/latent/{i}" for i in range(self._ctx.get("latent_dim", 0))]
                out += [f"{P}/direction/{n}" for n in sorted(self._ctx.get("directions", ()))]
                out += [f"{P}/shader/{a}/{b}" for a, b in sorted(self._ctx.get("shader_params", ()))]
                out += [net_address(n) for n in sorted(self._ctx.get("net_params", ()))]
                out += [f"{P}/in/{n}" for n in sorted(self._inputs)]
                out += [f"{P}/key/{n}" for n in sorted(self._keys)]
                self._concrete = tuple(out)
            return self._concrete

    def route(self, address: str, args: Sequence, t_s: float, origin: str = "osc",
              reply_to: tuple[str, int] | None = None) -> list[ControlEvent]:
        """Events for one message; raises Rejected, or Ignored for a trigger's release."""
        args = tuple(args)
        if address in self._cues:  # the scheduler reads it against the scene on screen
            return [ControlEvent(t_s, address, _args_trigger(args, address, {}), origin, reply_to)]
        if not address.startswith(P + "/"):
            raise Rejected("unknown_address", f"{address}: not under {P}/")
        if not is_pattern(address):
            return [self._exact(address, args, t_s, origin, reply_to)]
        rx = pattern_regex(address)
        matches = [a for a in self.concrete_addresses() if rx.fullmatch(a)]
        if not matches:
            raise Rejected("unknown_address", f"{address}: pattern matches no declared value address")
        # every match has the same argument rules (all are single-float value routes), so the first
        # rejection stands for all
        return [self._exact(a, args, t_s, origin, reply_to) for a in matches]

    def _exact(self, address: str, args: tuple, t_s: float, origin: str, reply_to) -> ControlEvent:
        route, m = self._match(address)
        canon = route.coerce(args, address, self._ctx)
        self._check_declared(route, m, address)
        return ControlEvent(t_s, address, canon, origin, reply_to)

    def _match(self, address: str) -> tuple[Route, dict[str, str]]:
        hit = self._matches.get(address)  # senders repeat a few addresses many times a second
        if hit is not None:
            return hit
        hit = _match_route(address)
        if len(self._matches) < 4096:
            self._matches[address] = hit
        return hit

    def _check_declared(self, route: Route, m: dict[str, str], address: str) -> None:
        ctx = self._ctx
        if "i" in m and int(m["i"]) >= ctx.get("latent_dim", MAX_LATENT_DIM):
            raise Rejected("out_of_range", f"{address}: latent index {m['i']} >= latent_dim {ctx.get('latent_dim')}")
        if route.hold == "direction.{name}" and "directions" in ctx and m["name"] not in ctx["directions"]:
            raise Rejected("unknown_address", f"{address}: the model has no direction {m['name']!r}")
        if "pass" in m and "shader_params" in ctx and (m["pass"], m["param"]) not in ctx["shader_params"]:
            raise Rejected("unknown_address", f"{address}: no shader parameter {m['pass']}.{m['param']}")
        if route.hold is not None and route.hold.partition(".")[0] in NET_KINDS and "net_params" in ctx:
            name = route.hold.format(**m)
            if name not in ctx["net_params"]:
                have = sorted(ctx["net_params"])
                raise Rejected("unknown_address", f"{address}: the show's models have no live parameter {name!r} "
                               f"(they have: {', '.join(have[:12]) or 'none'}{' ...' if len(have) > 12 else ''})")
        if route.hold in ("in.{name}", "key.{name}"):
            seen = self._inputs if route.hold == "in.{name}" else self._keys
            if m["name"] not in seen:
                with self._lock:
                    if len(seen) >= self._max_inputs:
                        raise Rejected("out_of_range", f"{address}: more than {self._max_inputs} distinct names")
                    seen.add(m["name"])
                    self._concrete = None


@functools.lru_cache(maxsize=1024)
def route_for(address: str) -> Route | None:
    """The route of a concrete event address (as ControlEvents carry them), or None: what owners dispatch on."""
    try:
        return _match_route(address)[0]
    except Rejected:
        return None


def _match_route(address: str) -> tuple[Route, dict[str, str]]:
    exact = ROUTES_BY_ADDRESS.get(address)
    if exact is not None:
        return exact, {}
    for route in ROUTES:
        if "<" in route.address:
            m = route.regex.fullmatch(address)
            if m:
                return route, m.groupdict()
    raise Rejected("unknown_address", f"{address}: no such address (see `perform osc`)")


def held_values(event: ControlEvent) -> Iterator[tuple[str, float]]:
    """The held values an event sets, as (key, value): ('latent.3', 0.8), ('in.fader1', 0.5), ...

    Keys are mapping names: 'latent.<i>', 'direction.<name>', 'mix', 'shader.<pass>.<param>',
    'in.<name>', 'key.<name>', 'midi.cc.<ch>.<n>' (and note, bend, program: program / 127). Commands hold nothing. Pure string work, cheap per drained event.
    """
    parts = event.address.split("/")  # ['', 'perform', kind, ...]
    if len(parts) < 3 or parts[1] != "perform" or not event.args:
        return
    kind = parts[2]
    if kind == "latent":
        if len(parts) == 4:
            yield f"latent.{parts[3]}", float(event.args[0])
        elif len(parts) == 3:
            for i, v in enumerate(event.args):
                yield f"latent.{i}", float(v)
    elif kind in ("direction", "in", "key") and len(parts) == 4:
        yield f"{kind}.{parts[3]}", float(event.args[0])
    elif kind == "shader" and len(parts) == 5:
        yield f"shader.{parts[3]}.{parts[4]}", float(event.args[0])
    elif kind == "mix" and len(parts) == 3:
        yield "mix", float(event.args[0])
    elif kind == "midi" and len(parts) in (5, 6):
        v = float(event.args[0])
        yield "midi." + ".".join(parts[3:]), v / 127.0 if parts[3] == "program" else v
    elif kind == "bend" and len(parts) == 5:
        yield f"bend.{parts[3]}.{parts[4]}", float(event.args[0])
    elif kind == "blend" and len(parts) in (4, 5):
        yield "blend." + ".".join(parts[3:]), float(event.args[0])
    elif kind == "trajectory" and len(parts) == 3:
        yield "trajectory.position", float(event.args[0])


def is_value(address: str) -> bool:
    """Whether an event address sets a held value (latent, direction, mix, shader, in, key, midi, bend, blend, trajectory)."""
    parts = address.split("/")
    return len(parts) > 2 and parts[1] == "perform" and parts[2] in ("latent", "direction", "mix", "shader", "in", "key",
                                                                     "midi", *NET_KINDS)


def net_address(name: str) -> str:
    """The OSC address of a live network parameter: 'bend.warp.angle' -> '/perform/bend/warp/angle',
    'trajectory.position' -> '/perform/trajectory'."""
    if name == "trajectory.position":
        return f"{P}/trajectory"
    return f"{P}/" + name.replace(".", "/")


def address_space_table() -> str:
    """The address space as a markdown table (docs/osc.md embeds it; a test keeps them equal)."""
    rows = ["| address | args | range | meaning |", "|---|---|---|---|"]
    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a bare | would split the markdown cell

    for r in ROUTES:
        rows.append(f"| `{r.address}` | `{cell(r.args)}` | {cell(r.range)} | {cell(r.help)} |")
    return "\n".join(rows)


def address_space_text() -> str:
    """The address space for a terminal."""
    w = max(len(r.address) for r in ROUTES)
    lines = []
    for r in ROUTES:
        lines.append(f"{r.address:<{w}}  {r.args:<8} {r.range}")
        lines.append(f"{'':<{w}}  {r.help}")
    return "\n".join(lines)
