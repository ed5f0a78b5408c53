"""`perform record DIR [SETLIST] [live options]`: `perform live --record DIR`, with `--overwrite` for a folder that holds a take."""

from __future__ import annotations

import argparse

from perform.commands import live
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", metavar="DIR", help="session folder to record into (new, or empty)")
    p.add_argument("--overwrite", action="store_true", help="replace a session already recorded in DIR")
    live.add_arguments(p)  # the live options; --record is DIR here
    p.epilog = ("Records the face track, the aligned face crops, every control event (OSC, MIDI, keys) and the scene "
                "changes; --record-video keeps the camera video too. Replay it with "
                "`perform rehearse SETLIST --session DIR`. See docs/sessions.md.")


def run(args: argparse.Namespace) -> int:
    if args.record is not None and args.record != args.directory:
        raise PerformError(f"two session folders given: DIR {args.directory!r} and --record {args.record!r}")
    args.record = args.directory
    return live.run(args)  # which checks the folder (with --overwrite) before the show
