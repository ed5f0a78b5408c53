"""`perform check`: validate setlists before a show (schema, models, shaders, mappings, timing)."""

from __future__ import annotations

import argparse

from perform.commands import options
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("setlists", nargs="+", metavar="SETLIST", help="setlist TOML files to check")
    p.add_argument("--no-gl", action="store_true", help="skip compiling shaders (no headless OpenGL)")
    p.add_argument("--no-timing", action="store_true", help="skip the quick model timing")
    p.add_argument("--device", type=options.device, default="cpu", help="device to load and time models on (default: cpu)")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; moderngl and the setlist code only when this runs
    from perform.setlist.check import check_setlist, format_report

    cache: dict = {}
    failed = 0
    for path in args.setlists:
        report = check_setlist(path, gl=not args.no_gl, timing=not args.no_timing, device=args.device, model_cache=cache)
        print(format_report(report, strict=args.strict), flush=True)
        if not report.ok or (args.strict and report.warnings):
            failed += 1
    if failed:
        raise PerformError(f"{failed} of {len(args.setlists)} setlist(s) failed the check")
    return 0
