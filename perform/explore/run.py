"""`perform explore` assembled: the model, the session (new, resumed or replayed), a script or the window,
then the lineage, the grid PNGs and the favourites exported."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.errors import PerformError
from perform.explore.export import append_scene, write_keyframes
from perform.explore.genome import space_of
from perform.explore.grid import compose, layout_for
from perform.explore.identity import identify
from perform.explore.images import GenomePainter
from perform.explore.lineage import read_lineage, write_lineage
from perform.explore.osc import ExploreRouter
from perform.explore.session import ActionError, ExploreSession, normalise_action, parse_genome_id, replay
from perform.training.grids import save_png
from perform.explore.window import run_window
from perform.nets.model import load_model
from perform.setlist.paths import find_model

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExploreConfig:
    model: str
    seed: int = 0
    grid: tuple[int, int] = (3, 3)          # (cols, rows)
    strength: float = 0.5
    keep_parents: bool = True
    resume: str | None = None                # continue this lineage (checked by replaying it)
    replay: str | None = None                # only replay this lineage and check it reproduces
    script: str | None = None                # JSON list of actions, applied before the window (or alone, headless)
    headless: bool = False
    out: str | None = None                   # the lineage file written at the end (and by S)
    png_dir: str | None = None               # one grid PNG per generation
    png_scale: int = 2
    into: str | None = None                  # append the favourites as a scene to this setlist
    scene_name: str | None = None
    keyframes: str | None = None             # write the favourites' keyframes (TOML) here
    device: str = "auto"
    size: tuple[int, int] = (1024, 768)
    fullscreen: bool = False
    display: int = 0
    osc_port: int = 9000                     # 0: no OSC
    osc_host: str = "127.0.0.1"
    frames: int | None = None                # stop the window after N frames (tests)


def find_card(ref: str) -> Path:
    return find_model(ref, "MODEL")


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """A script's actions, canonical; errors name the file and the entry."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PerformError(f"{path}: no such script") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PerformError(f"{path}: cannot read the script: {e}") from None
    if isinstance(raw, dict) and isinstance(raw.get("actions"), list):
        raw = raw["actions"]
    if not isinstance(raw, list):
        raise PerformError(f"{path}: a script is a JSON list of actions, e.g. [{{\"pick\": 4}}, \"breed\", {{\"favourite\": 2}}]")
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(raw):
        try:
            out += normalise_action(entry)
        except ValueError as e:
            raise PerformError(f"{path}: entry #{i}: {e}") from None
    return out


def run_explore(cfg: ExploreConfig) -> int:
    card = find_card(cfg.model)
    model = load_model(card, cfg.device)
    space = space_of(model)
    identity = identify(model, card)
    painter = GenomePainter(model, space)

    if cfg.replay:
        session = replay(read_lineage(cfg.replay), space, identity, where=cfg.replay)
        n = sum(len(g.genomes) for g in session.generations)
        print(f"replayed {len(session.choices)} choices of {cfg.replay}: {len(session.generations)} generations, "
              f"{n} genomes, every one the same as saved")
        _write_pngs(session, painter, cfg)
        _export(session, card, cfg, cfg.replay)
        return 0

    if cfg.resume:
        session = replay(read_lineage(cfg.resume), space, identity, where=cfg.resume)
        print(f"resumed {cfg.resume}: generation {session.current} of {len(session.generations)}, "
              f"{len(session.favourites)} favourites")
    else:
        session = ExploreSession(space, identity, seed=cfg.seed, cols=cfg.grid[0], rows=cfg.grid[1],
                                 strength=cfg.strength, keep_parents=cfg.keep_parents)
    out = cfg.out or cfg.resume or (None if cfg.headless else f"{identity.name}.lineage.json")

    if cfg.script:
        for i, action in enumerate(load_script(cfg.script)):
            try:
                log.info("%s", session.apply(action))
            except ActionError as e:
                raise PerformError(f"{cfg.script}: action #{i} {action}: {e}") from None

    try:
        if not cfg.headless:
            _run_window(session, painter, cfg, out)
    finally:  # the choices made so far are kept, however the window ended (Ctrl-C, a driver error)
        if out:
            write_lineage(out, session)
            print(f"lineage: {out} ({len(session.generations)} generations, {len(session.favourites)} favourites)")
    _write_pngs(session, painter, cfg)
    _export(session, card, cfg, out)
    return 0


def _run_window(session: ExploreSession, painter: GenomePainter, cfg: ExploreConfig, out: str | None) -> None:
    def save() -> str:
        write_lineage(out, session)
        return f"saved {out}"

    state = ControlState() if cfg.osc_port else None
    server = None
    if state is not None:
        try:
            server = OSCServer(state, cfg.osc_host, cfg.osc_port, router=ExploreRouter()).start()
            print(f"OSC: /perform/explore/... on {cfg.osc_host}:{server.port}")
        except OSError as e:
            raise PerformError(f"--osc-port {cfg.osc_port}: {e} (another program listens there? --osc-port 0 turns OSC off)") from None
    try:
        run_window(session, painter, save, size=cfg.size, fullscreen=cfg.fullscreen, display=cfg.display,
                   events=state, frames=cfg.frames)
    except PerformError as e:
        raise PerformError(f"{e} (`perform explore --headless --script PICKS.json` needs no window)") from None
    finally:
        if server is not None:
            server.close()


def generation_image(session: ExploreSession, painter: GenomePainter, gen_id: int, scale: int):
    """Generation `gen_id` as a grid: the cells picked to breed its children framed (in pick order), its
    favourites marked."""
    gen = session.generations[gen_id]
    picks: list[int] = []
    for g in session.generations:
        if g.parent == gen_id:
            picks += [c for c in g.picks if c not in picks]
    if gen_id == session.current:
        picks += [c for c in session.picks if c not in picks]
    favs = [c for g, c in map(parse_genome_id, session.favourites) if g == gen_id]
    images = painter.paint(gen.genomes)
    return compose(images, layout_for(images[0].shape, session.cols, session.rows, scale), picks, favs)


def _write_pngs(session: ExploreSession, painter: GenomePainter, cfg: ExploreConfig) -> None:
    if not cfg.png_dir:
        return
    for gen in session.generations:
        save_png(Path(cfg.png_dir) / f"generation-{gen.id:03d}.png", generation_image(session, painter, gen.id, cfg.png_scale))
    print(f"grids: {cfg.png_dir}/generation-*.png ({len(session.generations)})")


def _export(session: ExploreSession, card: Path, cfg: ExploreConfig, lineage: str | None) -> None:
    if not (cfg.into or cfg.keyframes):
        return
    favs = session.favourite_genomes()
    if not favs:
        raise PerformError("no favourites to export: mark some first (F in the window, or {\"favourite\": CELL} in a script)")
    latents = [session.space.express(g) for _, g in favs]
    comment = (f"explored with `perform explore {session.identity.name}`: favourites {', '.join(gid for gid, _ in favs)}"
               + (f" of {Path(lineage).name}" if lineage else ""))
    if cfg.keyframes:
        write_keyframes(cfg.keyframes, latents, comment)
        print(f"keyframes: {cfg.keyframes} ({len(latents)})")
    if cfg.into:
        name = append_scene(cfg.into, card, latents, comment, name=cfg.scene_name)
        print(f"scene {name!r} appended to {cfg.into} ({len(latents)} keyframe(s)); check it with `perform check {cfg.into}`")
