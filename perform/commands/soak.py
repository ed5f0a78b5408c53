"""`perform soak`: run the live show headless for a set time with a fault every so often; report recovery,
frames dropped, memory, threads and files, and how it exits on SIGINT and SIGTERM (Linux)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from perform.commands import options
from perform.commands.live import parse_size


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def add_arguments(p: argparse.ArgumentParser) -> None:
    # start-up: read for --help's list of faults; the rest of the soak harness only when it runs
    from perform.soak.faults import FAULTS

    p.add_argument("--duration-s", type=float, default=None, help="from the show being ready to the exit signal "
                   "(default 1800; --quick 64)")
    p.add_argument("--fault-every-s", type=float, default=None, help="a fault this often (default 30; --quick 7)")
    p.add_argument("--faults", type=_names, default=tuple(FAULTS), metavar="A,B,...",
                   help=f"which faults, in turn (default all: {','.join(FAULTS)})")
    p.add_argument("--rounds", type=int, default=None,
                   help="inject this many rounds of the faults, then let the show run to the end "
                        "(default: no limit; --quick 1)")
    p.add_argument("--hold-s", type=float, default=None, help="how long a lasting fault lasts (default 5; --quick 3.5: longer than the inference "
                        "watchdog's 2 s, so a freeze is one the show must notice)")
    p.add_argument("--warmup-s", type=float, default=None, help="before the first fault (default 60; --quick 4)")
    p.add_argument("--quick", action="store_true", help="about a minute, every fault once, for CI")
    p.add_argument("--setlist", default=None, help="setlist to run (copied with its folder; default: the shipped demo)")
    p.add_argument("--size", type=parse_size, default=(640, 360), metavar="WxH", help="output size (default 640x360)")
    p.add_argument("--fps", type=options.fps, default=30.0, help="the show's frame rate (default 30)")
    p.add_argument("--exit-signals", type=_names, default=("INT", "TERM"), metavar="INT,TERM",
                   help="end with these, one show each (default INT,TERM; empty: just stop)")
    p.add_argument("--workdir", default=None, help="keep the copies, the status file and the show's log here")
    p.add_argument("--json", type=options.output_file, default=None, metavar="FILE",
                   help="write the report as JSON (checked before the soak: it is written at the end)")


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; the harness and moderngl only when this runs
    from perform.soak.harness import QUICK, SoakConfig, run_soak
    from perform.soak.report import format_report

    base = QUICK if args.quick else {}
    pick = {k: getattr(args, k) if getattr(args, k) is not None else base.get(k, getattr(SoakConfig, k))
            for k in ("duration_s", "fault_every_s", "hold_s", "warmup_s", "rounds")}
    cfg = SoakConfig(faults=args.faults, setlist=args.setlist, size=args.size, fps=args.fps,
                     exit_signals=tuple(s.upper().removeprefix("SIG") for s in args.exit_signals),
                     workdir=args.workdir, **pick)
    report = run_soak(cfg)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if report["verdict"]["pass"] else 1
