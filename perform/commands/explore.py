"""`perform explore MODEL`: interactive evolution of the model's images; favourites into a setlist."""

from __future__ import annotations

import argparse

from perform.commands import options
from perform.commands.options import parse_size


def _grid(text: str) -> tuple[int, int]:
    try:
        cols, rows = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected COLSxROWS, e.g. 3x3") from None
    if cols < 1 or rows < 1 or cols * rows < 2 or cols > 16 or rows > 16:
        raise argparse.ArgumentTypeError(f"{text!r}: a grid of 2 to 256 cells, at most 16 a side")
    return cols, rows


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a model name (face-64; see `perform info`), a name in ./models, or a path to its .json")
    p.add_argument("--grid", type=_grid, default=(3, 3), metavar="COLSxROWS", help="candidates shown (default 3x3)")
    p.add_argument("--seed", type=options.integer(0, 2**63 - 1, what="a seed"), default=0, help="seeds every generation (default 0)")
    p.add_argument("--strength", type=options.number(0.0, 4.0, what="a mutation strength"), default=0.5,
                   help="mutation strength to start with, 0..4 (default 0.5; +/- change it)")
    p.add_argument("--no-keep-parents", dest="keep_parents", action="store_false",
                   help="do not carry the picked parents into the next grid")
    p.add_argument("--resume", default=None, metavar="LINEAGE.json", help="continue a saved session (checked by replaying it)")
    p.add_argument("--replay", default=None, metavar="LINEAGE.json",
                   help="replay a lineage's choices, check they give its genomes, and stop (with --png-dir, --into)")
    p.add_argument("--script", default=None, metavar="PICKS.json",
                   help='apply these actions first: [{"pick": 4}, "breed", {"favourite": 0}, {"strength": 0.3}, "back"]')
    p.add_argument("--headless", action="store_true", help="no window: run --script (if any), write the files, stop")
    p.add_argument("--out", default=None, metavar="LINEAGE.json",
                   help="lineage file (default: --resume's, else MODEL.lineage.json with a window, none headless)")
    p.add_argument("--png-dir", default=None, metavar="DIR", help="write each generation's grid as DIR/generation-NNN.png")
    p.add_argument("--png-scale", type=options.integer(1, 16, what="a scale"), default=2, help="grid PNG pixels per model pixel (default 2)")
    p.add_argument("--into", default=None, metavar="SETLIST.toml", help="append the favourites as a scene (created if missing)")
    p.add_argument("--scene-name", default=None, help="name of that scene (default explore-MODEL, numbered if taken)")
    p.add_argument("--keyframes", type=options.output_file, default=None, metavar="FILE.toml",
                   help="write the favourites' latents as `keyframes = [...]` for any scene")
    p.add_argument("--device", type=options.device, default="auto", help="torch device (default auto)")
    p.add_argument("--size", type=parse_size, default=(1024, 768), metavar="WxH", help="window size (default 1024x768)")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen")
    p.add_argument("--display", type=int, default=0, help="display index for the window")
    p.add_argument("--osc-port", type=options.port_or_off, default=9000,
                   help="listen for /perform/explore/... on this UDP port (default 9000; 0 = off)")
    p.add_argument("--osc-host", type=options.local_address, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--frames", type=int, default=None, help=argparse.SUPPRESS)  # tests: close the window after N frames


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; torch only when this runs
    from perform.errors import PerformError
    from perform.explore.run import ExploreConfig, run_explore

    if args.resume and args.replay:
        raise PerformError("--resume and --replay: one or the other")
    fields = {k: getattr(args, k) for k in ("model", "seed", "grid", "strength", "keep_parents", "resume", "replay", "script",
                                            "headless", "out", "png_dir", "png_scale", "into", "scene_name", "keyframes",
                                            "device", "size", "fullscreen", "display", "osc_port", "osc_host", "frames")}
    return run_explore(ExploreConfig(**fields))
