"""An explore session: the grid of candidates, the picks, breeding, going back, favourites, and its lineage.

The session owns all of it; the window, the OSC thread's events and a script only call `apply(action)`.
Every applied action is recorded (`choices`), and every generation is seeded by (session seed, generation
id), so the choices alone rebuild every genome: `replay` does, and checks them against a saved lineage.
No torch here: images are the images module's business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from perform.errors import PerformError
from perform.explore.genome import Genome, GenomeSpace, crossover, mutate, random_genome, same
from perform.explore.identity import ModelIdentity

LINEAGE_FORMAT = "perform-explore-lineage"
LINEAGE_VERSION = 1
ACTIONS = ("pick", "breed", "back", "favourite", "strength")
MAX_STRENGTH = 4.0


class ActionError(PerformError):
    """An action that cannot be applied now (a cell out of range, breeding with no parent, ...)."""


class LineageError(PerformError):
    """A lineage file that cannot be used: unreadable, another model's, or not what its choices give."""


@dataclass(frozen=True, slots=True)
class Generation:
    """One grid. parent: the generation it was bred from (None for the first); picks: that generation's
    cells picked as parents; parents[i]: the ids ("generation.cell") genome i came from."""

    id: int
    parent: int | None
    picks: tuple[int, ...]
    strength: float
    genomes: tuple[Genome, ...]
    parents: tuple[tuple[str, ...], ...]


def genome_id(generation: int, cell: int) -> str:
    return f"{generation}.{cell}"


def parse_genome_id(text: str) -> tuple[int, int]:
    g, _, c = str(text).partition(".")
    if not (g.isdigit() and c.isdigit()):
        raise ValueError(f"genome id {text!r} is not 'generation.cell'")
    return int(g), int(c)


def normalise_action(a: Any) -> list[dict[str, Any]]:
    """One script entry as canonical actions: "breed", "back", {"pick": 2}, {"pick": [1, 4]},
    {"favourite": 3}, {"strength": 0.3}, or the canonical {"action": "pick", "cell": 2}. Raises ValueError."""
    if isinstance(a, str):
        a = {"action": a}
    if not isinstance(a, Mapping):
        raise ValueError(f"{a!r:.60} is not an action (a name or a table)")
    if "action" not in a:
        if len(a) != 1:
            raise ValueError(f"{dict(a)!r:.80}: one of {ACTIONS} per entry")
        (name, value), = a.items()
        key = "value" if name == "strength" else "cell"
        cells = value if isinstance(value, list) and name in ("pick", "favourite") else [value]
        return [c for v in cells for c in normalise_action({"action": name, key: v})]
    name = a["action"]
    if name not in ACTIONS:
        raise ValueError(f"unknown action {name!r}; known: {', '.join(ACTIONS)}")
    extra = set(a) - {"action", "cell", "value"}
    if extra:
        raise ValueError(f"action {name!r}: unknown key(s) {sorted(extra)}")
    if name in ("pick", "favourite"):
        cell = a.get("cell")
        if not isinstance(cell, int) or isinstance(cell, bool):
            raise ValueError(f"action {name!r} needs a whole-number 'cell' (from 0), got {cell!r}")
        return [{"action": name, "cell": cell}]
    if name == "strength":
        v = a.get("value")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"action 'strength' needs a number 'value', got {v!r}")
        return [{"action": name, "value": float(v)}]
    return [{"action": name}]


class ExploreSession:
    """The state of one exploration of one model.

    Args:
        space: the model's GenomeSpace; identity: the model's ModelIdentity (saved in the lineage).
        seed: seeds every generation with (seed, generation id).
        cols, rows: the grid (cells are numbered row by row from 0).
        strength: the mutation strength to start with (0 .. MAX_STRENGTH).
        keep_parents: the picked parents stay in the first cells of the child generation, unchanged.
    """

    def __init__(self, space: GenomeSpace, identity: ModelIdentity, seed: int = 0, cols: int = 3, rows: int = 3,
                 strength: float = 0.5, keep_parents: bool = True) -> None:
        if cols < 1 or rows < 1 or cols * rows < 2:
            raise ValueError(f"a grid of {cols}x{rows}: at least 2 cells")
        self.space = space
        self.identity = identity
        self.seed = int(seed)
        self.cols, self.rows = int(cols), int(rows)
        self.keep_parents = bool(keep_parents)
        self.start_strength = _check_strength(strength)
        self.strength = self.start_strength
        self.generations: list[Generation] = []
        self.current = 0
        self.picks: list[int] = []
        self.favourites: list[str] = []
        self.choices: list[dict[str, Any]] = []
        rng = self._rng(0)
        genomes = tuple(random_genome(space, rng) for _ in range(self.size))
        self.generations.append(Generation(0, None, (), self.strength, genomes, tuple(() for _ in genomes)))

    @property
    def size(self) -> int:
        return self.cols * self.rows

    @property
    def generation(self) -> Generation:
        return self.generations[self.current]

    def genome(self, gid: str) -> Genome:
        g, c = parse_genome_id(gid)
        return self.generations[g].genomes[c]

    def favourite_genomes(self) -> list[tuple[str, Genome]]:
        return [(gid, self.genome(gid)) for gid in self.favourites]

    # ---- actions ----

    def apply(self, action: Mapping[str, Any]) -> str:
        """Apply one canonical action (see normalise_action), record it, and say what happened.
        Raises ActionError (nothing recorded) when it cannot be applied now."""
        (a,) = normalise_action(action)
        name = a["action"]
        if name == "pick":
            note = self._pick(a["cell"])
        elif name == "favourite":
            note = self._favourite(a["cell"])
        elif name == "strength":
            note = self._strength(a["value"])
        elif name == "breed":
            note = self._breed()
        else:
            note = self._back()
        self.choices.append(a)
        return note

    def _cell(self, cell: int) -> int:
        if not 0 <= cell < self.size:
            raise ActionError(f"cell {cell} is not in the grid (0..{self.size - 1})")
        return cell

    def _pick(self, cell: int) -> str:
        cell = self._cell(cell)
        return f"picked {cell}" if _toggle(self.picks, cell) else f"unpicked {cell}"

    def _favourite(self, cell: int) -> str:
        gid = genome_id(self.current, self._cell(cell))
        return f"{gid} is a favourite" if _toggle(self.favourites, gid) else f"{gid} no longer a favourite"

    def _strength(self, value: float) -> str:
        try:
            self.strength = _check_strength(value)
        except ValueError as e:
            raise ActionError(str(e)) from None
        return f"strength {self.strength:g}"

    def _back(self) -> str:
        parent = self.generation.parent
        if parent is None:
            raise ActionError("already at the first generation")
        self.current = parent
        self.picks = []
        return f"back to generation {parent}"

    def _breed(self) -> str:
        if not self.picks:
            raise ActionError("pick one or more parents first")
        src = self.generation
        new_id = len(self.generations)
        rng = self._rng(new_id)
        ids = [genome_id(src.id, c) for c in self.picks]
        parents = [src.genomes[c] for c in self.picks]
        kept = min(len(parents), self.size - 1) if self.keep_parents else 0
        genomes: list[Genome] = []
        lineage: list[tuple[str, ...]] = []
        for k in range(self.size):
            if k < kept:
                genomes.append(parents[k])
                lineage.append((ids[k],))
            elif len(parents) == 1:
                genomes.append(mutate(parents[0], self.strength, self.space, rng))
                lineage.append((ids[0],))
            else:
                i, j = (int(x) for x in rng.choice(len(parents), size=2, replace=False))
                child = crossover(parents[i], parents[j], self.space, rng)
                genomes.append(mutate(child, self.strength, self.space, rng))
                lineage.append((ids[i], ids[j]))
        self.generations.append(Generation(new_id, src.id, tuple(self.picks), self.strength, tuple(genomes), tuple(lineage)))
        self.current = new_id
        self.picks = []
        return f"generation {new_id} from {', '.join(ids)}"

    def _rng(self, generation: int) -> np.random.Generator:
        # PCG64 from a SeedSequence: the same stream on every machine and numpy version
        return np.random.default_rng(np.random.SeedSequence([self.seed, generation]))

    # ---- the lineage ----

    def to_json(self) -> dict[str, Any]:
        gens = []
        for g in self.generations:
            gens.append({"id": g.id, "from": g.parent, "picks": list(g.picks), "strength": g.strength,
                         "genomes": [{"id": genome_id(g.id, i), "parents": list(p), **gen.to_json()}
                                     for i, (gen, p) in enumerate(zip(g.genomes, g.parents))]})
        return {"format": LINEAGE_FORMAT, "format_version": LINEAGE_VERSION, "model": self.identity.to_json(),
                "seed": self.seed, "grid": [self.cols, self.rows], "keep_parents": self.keep_parents,
                "start_strength": self.start_strength, "choices": list(self.choices), "current": self.current,
                "picks": list(self.picks), "strength": self.strength, "favourites": list(self.favourites),
                "generations": gens}


def _toggle(items: list, item: Any) -> bool:
    """Remove `item` from `items` if it is there, else append it; True when it is now in."""
    if item in items:
        items.remove(item)
        return False
    items.append(item)
    return True


def _check_strength(v: float) -> float:
    v = float(v)
    if not (math.isfinite(v) and 0.0 <= v <= MAX_STRENGTH):
        raise ValueError(f"mutation strength {v:g} outside 0..{MAX_STRENGTH:g}")
    return v


def replay(data: Mapping[str, Any], space: GenomeSpace, identity: ModelIdentity, where: str = "lineage") -> ExploreSession:
    """Rebuild a session from a lineage's seed, grid and choices on the model at hand, and check that it gives
    the saved genomes, bit for bit. Raises LineageError naming the problem: another model (what differs),
    a bad file, or the first genome that differs."""
    if not isinstance(data, Mapping) or data.get("format") != LINEAGE_FORMAT:
        raise LineageError(f"{where}: not a perform explore lineage (key 'format' should be {LINEAGE_FORMAT!r})")
    if data.get("format_version") != LINEAGE_VERSION:
        raise LineageError(f"{where}: lineage format_version {data.get('format_version')!r}; this perform reads {LINEAGE_VERSION}")
    try:
        saved_model = ModelIdentity.from_json(data.get("model"))
    except ValueError as e:
        raise LineageError(f"{where}: {e}") from None
    problem = saved_model.mismatch(identity)
    if problem:
        raise LineageError(f"{where} belongs to another model: {problem}")
    try:
        cols, rows = (int(x) for x in data["grid"])
        session = ExploreSession(space, identity, seed=int(data["seed"]), cols=cols, rows=rows,
                                 strength=float(data["start_strength"]), keep_parents=bool(data["keep_parents"]))
        choices = list(data["choices"])
    except (KeyError, TypeError, ValueError) as e:
        raise LineageError(f"{where}: bad lineage header ({type(e).__name__}: {e})") from None
    for n, action in enumerate(choices):
        try:
            session.apply(action)
        except (ValueError, ActionError) as e:
            raise LineageError(f"{where}: choice #{n} {action!r:.60}: {e}") from None
    _compare(session, data.get("generations"), where)
    return session


def _compare(session: ExploreSession, saved: Any, where: str) -> None:
    if not isinstance(saved, Sequence) or len(saved) != len(session.generations):
        n = len(saved) if isinstance(saved, Sequence) else "no"
        raise LineageError(f"{where}: {n} generations saved, its choices give {len(session.generations)}")
    z = session.space.latent_dim
    for gen, raw in zip(session.generations, saved):
        genomes = raw.get("genomes") if isinstance(raw, Mapping) else None
        if not isinstance(genomes, Sequence) or len(genomes) != len(gen.genomes):
            raise LineageError(f"{where}: generation {gen.id} does not hold {len(gen.genomes)} genomes")
        for i, (mine, theirs) in enumerate(zip(gen.genomes, genomes)):
            try:
                saved_genome = Genome.from_json(theirs, z)
            except (ValueError, AttributeError) as e:
                raise LineageError(f"{where}: genome {genome_id(gen.id, i)}: {e}") from None
            if not same(mine, saved_genome) or list(theirs.get("parents", [])) != list(gen.parents[i]):
                raise LineageError(f"{where}: genome {genome_id(gen.id, i)} is not what the choices give "
                                   "(edited by hand, or made by another version of perform)")
