"""`perform record DIR [SETLIST] [live options]`: `perform live --record DIR`, with the folder checked first."""

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
    # start-up: `perform --help` imports every command module; torch, cv2 and PyAV only when this runs
    from perform.session.recorder import check_session_dir

    if args.record is not None and args.record != args.directory:
        raise PerformError(f"two session folders given: DIR {args.directory!r} and --record {args.record!r}")
    # fail before the show, while it can still be fixed; during the show the recorder only ever degrades
    check_session_dir(args.directory, overwrite=args.overwrite)
    args.record = args.directory
    return live.run(args)
