"""Offline render speed: a setlist on the fixed clock to H.264, as a multiple of real time.

    python bench/bench_offline.py [SETLIST] [--seconds 10] [--size 1280x720] [--repeats 2]

Default: setlists/demo.toml with its shipped session (face track from the recording: no re-tracking).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from perform.commands.options import parse_size
    from perform.engine.rehearsal import RehearseConfig, run_rehearse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("setlist", nargs="?", default=str(ROOT / "setlists" / "demo.toml"))
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", type=parse_size, default=(1280, 720))
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--inference", choices=("process", "thread"), default="process")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            stats_file = Path(tmp) / f"stats{i}.json"
            cfg = RehearseConfig(setlist=args.setlist, out=str(Path(tmp) / f"out{i}.mp4"), t_to=args.seconds,
                                 size=args.size, torch_threads=args.torch_threads, stats_json=str(stats_file),
                                 progress=False, inference=args.inference)
            run_rehearse(cfg)
            runs.append(json.loads(stats_file.read_text()))
    fps = 30.0
    speeds = [1000.0 / r["stages"]["frame"]["mean_ms"] / fps for r in runs]
    print(f"offline render {args.size[0]}x{args.size[1]}, {args.seconds:g} s, inference {args.inference}, {args.repeats} runs: "
          f"{np.mean(speeds):.2f}x real time (runs: {', '.join(f'{s:.2f}x' for s in speeds)})")
    for stage, v in runs[-1]["stages"].items():
        print(f"  {stage:<8} p50 {v['p50_ms']:6.2f}  p95 {v['p95_ms']:6.2f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"speed_x_realtime": speeds, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
