"""The `perform` command: parses, then hands over to one function per subcommand.

Each subcommand lives in perform/commands/<name>.py with `add_arguments(parser)` and `run(args) -> int`;
they are imported only when used, so `perform --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from perform.errors import PerformError

# name -> one-line help; module perform.commands.<name> (dashes become underscores)
COMMANDS: dict[str, str] = {
    "live": "run the instrument: camera/source -> face -> model -> shaders -> window",
    "rehearse": "run a setlist on the fixed clock from a recording, video or synthetic input; render to video",
    "record": "record a live run's inputs (face track, OSC, keys, scenes) to a session folder",
    "check": "validate a setlist before the show: schema, models, shaders, mappings",
    "capture": "build a face dataset (aligned crops + manifest) from a camera, videos or images",
    "explore": "breed a model's images in a grid (interactive evolution); favourites into a setlist",
    "train": "train a model (recipes: vaegan, unstable-equilibrium, diverge)",
    "curate": "sample a model, score by weighted metrics, keep a diverse top k (contact sheet, CSV, setlist)",
    "select": "rank a training run's snapshots by weighted metrics; export the best as a model, plot the metrics",
    "search": "search a recipe's parameters (Optuna): trials scored by select's weighted metrics, table and plots",
    "osc": "print the OSC address space, or send a test message",
    "midi": "list the MIDI ports, or print what one sends",
    "bench": "run a benchmark (live, render, osc-flood, offline, nets, tracking, divergence, blend, outputs)",
    "soak": "run the live show headless with a fault every 30 s; report recovery, memory and exits",
    "clusters": "find a model's feature clusters (for bends), store them in its card, draw a contact sheet",
    "info": "show the device, the models found and the versions of the parts",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perform", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _command_module(name).add_arguments(p)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"perform.commands.{name.replace('-', '_')}")


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity + 1, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    # MediaPipe/TF Lite chatter
    for noisy in ("absl", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


# Commands that have finished every file, process and thread when they return. Run as a program, they end
# with os._exit: the interpreter's own teardown (freeing torch's and MediaPipe's objects one by one) took
# 2-3 s on a 2-core machine, and a show stopped by SIGTERM must be gone well within a process manager's
# patience. Called in-process (tests), main() returns as usual.
_EXIT_AT_ONCE = {"live", "record", "rehearse"}


def entry() -> None:
    """The console script and `python -m perform`."""
    raise SystemExit(main(exit_at_once=True))


def main(argv: list[str] | None = None, exit_at_once: bool = False) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # a cheap top-level parse first, so one broken command module cannot break `perform --help` of the others
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    _setup_logging(args.verbose)
    try:
        code = int(_command_module(args.command).run(args) or 0)
    except PerformError as e:
        print(f"perform {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"perform {args.command}: interrupted", file=sys.stderr)
        return 130
    if exit_at_once and args.command in _EXIT_AT_ONCE:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or hung-up terminal
            pass
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
