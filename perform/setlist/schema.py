"""The setlist schema: frozen dataclasses for a show and its scenes (docs/setlists.md is the reference)."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from perform.mapping.spec import BLEND_GROUPS  # re-exported for the loader
from perform.nets.bending.table import BendSpec  # plain data, no torch

DRIVES: Mapping[str, float] = types.MappingProxyType({
    "face": 1.0,    # the encoded face alone steers the latent
    "latent": 0.0,  # keyframes + mappings (OSC, features as controls) alone
    "both": 0.5,    # a mix; `mix` sets the face share
})
TRANSITION_KINDS: tuple[str, ...] = ("cut", "crossfade", "latent")
QUANTISE: tuple[str, ...] = ("off", "beat", "bar")  # when a triggered scene change happens: at once, next beat, next bar
INPUT_SYNTHETIC = "synthetic"


@dataclass(frozen=True, slots=True)
class Duration:
    """seconds, beats (at the running tempo), or neither: hold until triggered."""

    seconds: float | None = None
    beats: float | None = None

    @property
    def hold(self) -> bool:
        return self.seconds is None and self.beats is None

    def to_seconds(self, tempo_bpm: float) -> float | None:
        """Length in seconds at a constant tempo; None for hold."""
        if self.seconds is not None:
            return self.seconds
        if self.beats is not None:
            return self.beats * 60.0 / tempo_bpm
        return None

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"{self.seconds:g} s"
        if self.beats is not None:
            return f"{self.beats:g} beats"
        return "hold"


ZERO = Duration(seconds=0.0)
HOLD = Duration()


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """How a scene hands over to the one after it. `latent` interpolates latents (same model on both sides)."""

    kind: str = "cut"
    duration: Duration = ZERO
    curve: str = "linear"


@dataclass(frozen=True, slots=True)
class ShaderSpec:
    """One pass of the scene's shader chain: a registered pass type, a name for mappings, parameter values."""

    type: str
    name: str
    params: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Advance:
    """A scene's own triggers to move on, besides its duration and the global next/prev/go controls."""

    osc: tuple[str, ...] = ()   # OSC addresses; any message to one of them advances
    keys: tuple[str, ...] = ()  # key names, as in /perform/key/<name>
    at_s: float | None = None   # seconds into the show
    midi: tuple[str, ...] = ()  # MIDI controls, "note.<ch>.<n>", "program.<ch>.<n>", "cc.<ch>.<n>": a press advances
    quantise: str | None = None  # for triggers leaving this scene: QUANTISE, or None for the show's

    @property
    def any(self) -> bool:
        return bool(self.osc or self.keys or self.midi or self.at_s is not None)


PAIR_MODES: tuple[str, ...] = ("side_by_side", "a", "b", "crossfade")


@dataclass(frozen=True, slots=True)
class PairSpec:
    """How a data-free pair model is shown. mode: both side by side, one generator alone, or a crossfade
    (`crossfade` 0 = A .. 1 = B). The training trajectory is played back: `trajectory` is the time to
    go from the first snapshot to the last (then back: a ping-pong), or None to stay at `snapshot`
    (0 = first .. 1 = last). The inputs /perform/in/snapshot and /perform/in/pair_crossfade override."""

    mode: str = "side_by_side"
    crossfade: float = 0.5
    snapshot: float = 1.0
    trajectory: "Duration | None" = None




@dataclass(frozen=True, slots=True)
class BlendSpec:
    """A scene's weight blend (docs/setlists.md, docs/divergence.md): the scene's model blended with `with_model`,
    α starting at `alpha` (0 = the scene's model, 1 = the second), each group's α shifted by `shifts`
    ((group, -1..1), ...), and the layers in `swap` taken from the second model while `swapped`."""

    with_model: str
    with_path: Path | None
    alpha: float = 0.5
    shifts: tuple[tuple[str, float], ...] = ()
    swap: tuple[str, ...] = ()
    swapped: bool = True

    def net_defaults(self) -> dict[str, float]:
        """The live network parameters' starting values (perform.nets.blend names)."""
        return {"blend.alpha": self.alpha, **{f"blend.alpha.{g}": v for g, v in self.shifts},
                "blend.swap": 1.0 if (self.swapped and self.swap) else 0.0}


@dataclass(frozen=True, slots=True)
class MappingSource:
    """A scene's mappings: inline [[scene.mapping]] tables and/or the tables of a mapping file.

    tables: every mapping table in order (file tables first), as plain read-only mappings, in the mapping
    schema of perform.mapping. specs: the same parsed by perform.mapping when that parser is available.
    """

    tables: tuple[Mapping[str, Any], ...] = ()
    file: Path | None = None
    specs: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Scene:
    name: str
    model: str                   # as written
    model_path: Path | None      # resolved card path (.json); None only when unresolved (an error is reported)
    drive: str = "both"
    mix: float = 0.5             # face share of the latent: face 1.0, latent 0.0
    keyframes: tuple[tuple[float, ...], ...] = ()
    seeds: tuple[int, ...] = ()
    keyframe_every: Duration | None = None  # walk through the keyframes with this period; None: first only
    mappings: MappingSource = MappingSource()
    shaders: tuple[ShaderSpec, ...] = ()
    duration: Duration = HOLD
    transition: TransitionSpec = TransitionSpec()
    advance: Advance = Advance()
    pair: PairSpec = PairSpec()  # used when the model is a data-free pair
    bends: tuple[BendSpec, ...] = ()  # [[scene.bend]]: network bends; their params are the scene's starting values
    net: tuple[tuple[str, float], ...] = ()  # [scene.net]: starting values of live network parameters (blend.alpha = 0.5)
    line: int | None = None      # line of its [[scene]] header
    blend: BlendSpec | None = None   # the model blended with a second one (weights, swapped layers)
    trajectory: float | None = None  # a trajectory model's starting position (0 = first snapshot .. 1 = last)

    def model_declaration(self) -> tuple[Path | None, tuple[str, ...], tuple[tuple[str, float], ...]] | None:
        """What the scene declares about building its model: (second model, swapped layers, sorted net
        parameter defaults), or None for the model as it is. Scenes sharing a model file must agree on it."""
        if self.blend is None and self.trajectory is None:
            return None
        defaults = dict(self.blend.net_defaults()) if self.blend is not None else {}
        if self.trajectory is not None:
            defaults["trajectory.position"] = self.trajectory
        return (self.blend.with_path if self.blend else None, self.blend.swap if self.blend else (),
                tuple(sorted(defaults.items())))

    @property
    def keyframe_count(self) -> int:
        return len(self.keyframes) or len(self.seeds) or 1

    @property
    def net_values(self) -> dict[str, float]:
        """The scene's starting values of live network parameters: its bends' params, then [scene.net]."""
        out = {f"bend.{b.name}.{p}": v for b in self.bends for p, v in b.params}
        out.update(self.net)
        return out


@dataclass(frozen=True, slots=True)
class Show:
    title: str = "untitled"
    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    tempo_bpm: float = 120.0
    input: str = INPUT_SYNTHETIC       # "synthetic", or a session folder / video, as written
    input_path: Path | None = None     # resolved against the setlist's folder; None for synthetic
    quantise: str = "off"              # triggered scene changes wait for the next beat or bar (QUANTISE)
    beats_per_bar: int = 4
    midi_scene_channel: int | None = None  # a program change n on this MIDI channel goes to scene n (from 0)


@dataclass(frozen=True, slots=True, eq=False)
class Setlist:
    path: Path | None
    show: Show
    scenes: tuple[Scene, ...]
    digest: str = ""  # sha256 of the source text
    warnings: tuple[Any, ...] = ()  # Problems of severity "warning" found while loading

    def index_of(self, name_or_index: str | int) -> int | None:
        """A scene's index (from 0) from its name, or an index checked against the scenes; None if none."""
        if isinstance(name_or_index, int) and not isinstance(name_or_index, bool):
            return name_or_index if 0 <= name_or_index < len(self.scenes) else None
        for i, scene in enumerate(self.scenes):
            if scene.name == name_or_index:
                return i
        text = str(name_or_index).strip()
        if text.isdigit():
            return self.index_of(int(text))
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scenes)

    def start_times_s(self) -> list[float | None]:
        """When each scene starts if the show runs untouched at the setlist's tempo (None after a hold).

        Transitions overlap the start of the incoming scene, so the show lasts the sum of the durations."""
        out: list[float | None] = []
        t: float | None = 0.0
        for scene in self.scenes:
            out.append(t)
            t = None if t is None else self._end_s(scene, t)
        return out

    def total_s(self) -> float | None:
        """Length of the show run untouched (end of the last scene's duration), None if it holds somewhere."""
        if not self.scenes:
            return 0.0
        start = self.start_times_s()[-1]
        return None if start is None else self._end_s(self.scenes[-1], start)

    def _end_s(self, scene: Scene, start_s: float) -> float | None:
        d = scene.duration.to_seconds(self.show.tempo_bpm)
        end = None if d is None else start_s + d
        if scene.advance.at_s is not None:
            at = max(scene.advance.at_s, start_s)
            end = at if end is None else min(end, at)
        return end
