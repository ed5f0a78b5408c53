"""Offline render speed against its physical limit, measured in the same run, as a real-time factor.

    python bench/bench_offline.py [SETLIST] [--seconds 10] [--size 1280x720] [--repeats 3] [--json FILE]

Default: setlists/demo.toml with its shipped session (face track from the recording: no re-tracking).
Each repeat renders the setlist with `perform rehearse` (the pipelined fixed clock, to H.264), then runs the
same frames with each stage alone, one after another, timing wall and CPU time (the whole process's, so
llvmpipe's and x264's threads count): step (face input, events, conductor), infer (generate, one torch
thread as in the inference child), draw (draw + readback), encode (RGB -> yuv420p + x264 on the calling
thread, one x264 thread so that its work is not left running into the next stage's timing).
On C cores a frame cannot be finished faster than its slowest stage, nor than the stages' CPU time shared
by the cores:  limit_ms = max(max_i wall_i, sum_i cpu_i / C)  (means over the frames). The real-time factor
is the frame period over the frame time: the limit's, the pipeline's, and their ratio are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("step", "infer", "draw", "encode")


def isolated_stages(cfg, x264_threads: int = 1):
    """Every stage of the rehearsal `cfg` alone, frame by frame: (wall TimingStats, cpu TimingStats), in ms."""
    import torch

    from perform.engine.fixed_clock import step_frame
    from perform.engine.plan import generate
    from perform.engine.presenter import ChainPresenter
    from perform.engine.rehearsal import assemble
    from perform.engine.timing import TimingStats
    from perform.render.context import create_headless_context
    from perform.render.video_out import VideoFileOutput

    r = assemble(cfg)
    torch.set_num_threads(1)  # as the inference child runs
    fps = r.setlist.show.fps
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, r.setlist.show.size, r.conductor, hot_reload=False)
    wall, cpu = TimingStats(keep_all=True), TimingStats(keep_all=True)
    last = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            writer = VideoFileOutput(Path(tmp) / "alone.mp4", r.setlist.show.size, fps, crf=cfg.crf,
                                     preset=cfg.x264_preset, threaded=False, x264_threads=x264_threads)

            def timed(stage, fn, *args):
                w0, c0 = time.perf_counter(), time.process_time()
                out = fn(*args)
                wall.add(stage, (time.perf_counter() - w0) * 1000.0)
                cpu.add(stage, (time.process_time() - c0) * 1000.0)
                return out

            def draw(plan, generated):
                presenter.draw(plan, generated, [])
                presenter.present()
                return presenter.read_pixels()

            with writer:
                for n in range(r.end):
                    plan = timed("step", step_frame, r.conductor, r.face_input, r.timeline, n, fps)
                    if n < r.start:
                        continue
                    if last is None or not plan.freeze:
                        last = timed("infer", generate, plan, r.models)
                    pixels = timed("draw", draw, plan, last)
                    timed("encode", writer.write, pixels)
    finally:
        presenter.close()
        r.face_input.close()
        ctx.release()
    return wall, cpu


def physical_limit_ms(wall: dict, cpu: dict, cores: int) -> float:
    """The shortest frame time a pipeline of these stages could reach on `cores` cores (mean ms per frame)."""
    return max(max(wall[s]["mean_ms"] for s in wall), sum(cpu[s]["mean_ms"] for s in cpu) / cores)


def main(argv: list[str] | None = None) -> int:
    from perform.commands.options import parse_size
    from perform.engine.rehearsal import RehearseConfig, run_rehearse
    from perform.engine.show import load_setlist_or_default

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("setlist", nargs="?", default=str(ROOT / "setlists" / "demo.toml"))
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", type=parse_size, default=(1280, 720))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--inference", choices=("process", "thread"), default="process")
    p.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count(), help="cores the limit shares the CPU time over (default: this process's)")
    p.add_argument("--x264-threads", type=int, default=0, help="the pipeline's encoder threads (0: x264's choice)")
    p.add_argument("--no-isolated", action="store_true", help="only the pipeline (no stage-alone runs, no limit)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    runs = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            stats_file = Path(tmp) / f"stats{i}.json"
            cfg = RehearseConfig(setlist=args.setlist, out=str(Path(tmp) / f"out{i}.mp4"), t_to=args.seconds,
                                 size=args.size, torch_threads=args.torch_threads, stats_json=str(stats_file),
                                 progress=False, inference=args.inference, x264_threads=args.x264_threads)
            run_rehearse(cfg)
            run = {"pipeline": json.loads(stats_file.read_text())}
            if not args.no_isolated:
                wall, cpu = isolated_stages(cfg)
                run["alone_wall"] = wall.as_dict()["stages"]
                run["alone_cpu"] = cpu.as_dict()["stages"]
            runs.append(run)
    load_after = os.getloadavg()
    fps = float(load_setlist_or_default(args.setlist, None, args.size, None).show.fps)
    print(f"\noffline render {args.size[0]}x{args.size[1]}, {args.seconds:g} s at {fps:g} fps, inference "
          f"{args.inference}, x264 threads {args.x264_threads or 'auto'}, {args.repeats} runs, {args.cores} cores; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after")
    period_ms = 1000.0 / fps
    for i, run in enumerate(runs):
        frame = run["pipeline"]["stages"]["frame"]
        run["achieved_x"] = period_ms / frame["mean_ms"]
        line = f"  run {i + 1}: pipeline {run['achieved_x']:.2f}x real time (frame p50 {frame['p50_ms']:.1f} / " \
               f"p95 {frame['p95_ms']:.1f} ms)"
        if "alone_wall" in run:
            run["limit_ms"] = physical_limit_ms(run["alone_wall"], run["alone_cpu"], args.cores)
            run["limit_x"] = period_ms / run["limit_ms"]
            run["ratio"] = run["achieved_x"] / run["limit_x"]
            line += f"; limit {run['limit_x']:.2f}x; pipeline / limit {run['ratio']:.2f}"
        print(line)
    print("  pipeline stages (last run), ms:       p50     p95    mean")
    for stage, v in runs[-1]["pipeline"]["stages"].items():
        print(f"    {stage:<20} {v['p50_ms']:16.2f} {v['p95_ms']:7.2f} {v['mean_ms']:7.2f}")
    if "alone_wall" in runs[-1]:
        print("  each stage alone (last run), ms: wall p50   p95   mean | cpu p50   p95   mean")
        for stage in STAGES:
            w, c = runs[-1]["alone_wall"][stage], runs[-1]["alone_cpu"][stage]
            print(f"    {stage:<20} {w['p50_ms']:9.2f} {w['p95_ms']:5.2f} {w['mean_ms']:6.2f} |"
                  f" {c['p50_ms']:7.2f} {c['p95_ms']:5.2f} {c['mean_ms']:6.2f}")
        med = lambda k: float(np.median([r[k] for r in runs]))  # noqa: E731
        print(f"  median of {len(runs)} runs: pipeline {med('achieved_x'):.2f}x real time, limit {med('limit_x'):.2f}x, "
              f"offline real-time factor {med('ratio'):.2f} of the limit")
    if args.json:
        Path(args.json).write_text(json.dumps({"load_average": [load_before, load_after], "cores": args.cores,
                                               "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
