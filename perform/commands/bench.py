"""`perform bench NAME [ARGS]`: run a benchmark from bench/ (live, render, osc-flood, offline, nets, tracking, divergence, blend, outputs).

`perform bench nets --device cuda --precision fp32 fp16` times the generator on a chosen device."""

from __future__ import annotations

import argparse
import runpy
import sys

from perform.errors import PerformError
from perform.resources import REPO_ROOT

BENCHES = {
    "live": "bench_live.py",
    "render": "bench_render.py",
    "osc-flood": "bench_osc_flood.py",
    "offline": "bench_offline.py",
    "nets": "bench_nets.py",  # generate/encode p50/p95 (--device, --precision, --compile), or --error vs fp32
    "tracking": "bench_tracking.py",
    "blend": "bench_blend.py",  # added cost per image of a live blend (alpha moving every frame), 64 and 128 px
    "outputs": "bench_outputs.py",  # render-loop time each video output adds at 720p; audio sound-to-screen latency
    "divergence": "bench_divergence.py",  # added cost per image of 0, 1, 4 bends (and a live blend) at 64 and 128 px
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=sorted(BENCHES), help="which benchmark")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its own options (see perform bench NAME --help)")


def run(args: argparse.Namespace) -> int:
    bench_dir = REPO_ROOT / "bench"  # benchmarks are development tools: not in the wheel
    script = bench_dir / BENCHES[args.name]
    if not script.is_file():
        raise PerformError(f"benchmark {script} not found (benchmarks run from a clone of the repository)")
    old = sys.argv
    sys.argv = [str(script), *args.args]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:
        return int(e.code or 0)
    finally:
        sys.argv = old
    return 0
