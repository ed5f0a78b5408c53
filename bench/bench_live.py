"""Live pipeline benchmark: the live clock (inference in a thread, or in its own process) against a plain
sequential loop doing the same work.

Synthetic camera (640x480, 30 fps) -> MediaPipe face mesh -> VAE-GAN (128 px by default) -> shader chain
-> 1280x720, headless (EGL). Reports fps, p50/p95 frame time and per-stage latencies for each, and the ratio.

    python bench/bench_live.py [--frames 600] [--resolution 128] [--model PATH] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def build(args):
    from perform.engine.defaults import UNTRAINED, default_setlist
    from perform.engine.show import build_show
    from perform.nets.model import random_vaegan
    from perform.nets.vaegan import VAEGANConfig

    sl = default_setlist(args.model or UNTRAINED, size=(1280, 720))
    models = None
    if not args.model:  # an untrained model costs what a trained one of the same shape costs
        key = str(sl.scenes[0].model_path)
        models = {key: random_vaegan(VAEGANConfig(resolution=args.resolution, latent_dim=64, width=args.width),
                                     device=args.device)}
    show = build_show(sl, device=args.device, models=models)
    return show.setlist, show.models, show.conductor


def run_threaded(args, process: bool = False) -> dict:
    from perform.engine.live_clock import LiveOptions, LiveRunner
    from perform.engine.presenter import ChainPresenter
    from perform.render.context import create_headless_context
    from perform.sources.synthetic import SyntheticSource
    from perform.tracking.tracker import FaceTracker

    sl, models, conductor = build(args)
    res = next(iter(models.values())).resolution
    infer = None
    if process:
        from perform.engine.inference_process import InferenceProcess

        infer = InferenceProcess(models, device="cpu", threads=args.torch_threads)
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, sl.show.size, conductor, hot_reload=False)
    runner = LiveRunner(SyntheticSource(fps=30), lambda: FaceTracker(crop_size=res), conductor, presenter, None,
                        LiveOptions(fps=args.display_fps, frames=args.frames, hud=False, infer=infer))
    t0 = time.perf_counter()
    stats = runner.run()
    wall = time.perf_counter() - t0
    presenter.close()
    if infer is not None:
        infer.close()
    ctx.release()
    out = stats.as_dict()
    out["wall_s"] = wall
    out["display_fps"] = args.frames / wall
    out["generated_fps"] = stats.stats("infer", whole_run=True).count / wall
    out["tracked_fps"] = stats.stats("track", whole_run=True).count / wall
    return out


def run_sequential(args) -> dict:
    """capture -> track -> infer -> render in one thread, one after another, each frame."""
    from perform.engine.plan import generate
    from perform.engine.presenter import ChainPresenter
    from perform.engine.timing import TimingStats
    from perform.render.context import create_headless_context
    from perform.sources.synthetic import SyntheticSource
    from perform.tracking.tracker import FaceTracker

    sl, models, conductor = build(args)
    res = next(iter(models.values())).resolution
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, sl.show.size, conductor, hot_reload=False)
    src = SyntheticSource(fps=30)
    tracker = FaceTracker(crop_size=res)
    stats = TimingStats(keep_all=True)
    for m in models.values():
        m.generate(np.zeros(m.latent_dim, np.float32))
    t_start = time.perf_counter()
    t_prev = None
    for n in range(args.frames):
        t0 = time.perf_counter()
        if t_prev is not None:
            stats.add("frame", (t0 - t_prev) * 1000)
        t_prev = t0
        # the source as a camera would be read: the newest frame, without waiting for the next one
        frame = src.frame_at(t0 - t_start, n)
        t1 = time.perf_counter()
        face = tracker.process(frame)
        t2 = time.perf_counter()
        plan = conductor.step(t2, n, face, [], "ok")
        gen = generate(plan, models)
        t3 = time.perf_counter()
        presenter.draw(plan, gen, [])
        presenter.present()
        ctx.finish()
        t4 = time.perf_counter()
        for name, a, b in (("capture", t0, t1), ("track", t1, t2), ("infer", t2, t3), ("render", t3, t4)):
            stats.add(name, (b - a) * 1000)
        stats.add("camera_to_screen", (t4 - t0) * 1000)
    wall = time.perf_counter() - t_start
    tracker.close()
    presenter.close()
    ctx.release()
    out = stats.as_dict()
    out["wall_s"] = wall
    out["display_fps"] = args.frames / wall
    out["generated_fps"] = out["display_fps"]
    out["tracked_fps"] = out["display_fps"]
    return out


def _row(name: str, r: dict) -> str:
    f = r["stages"]["frame"]
    return (f"{name:<11} display {r['display_fps']:6.1f} fps  generated {r['generated_fps']:5.1f}/s  "
            f"tracked {r['tracked_fps']:5.1f}/s  frame p50 {f['p50_ms']:6.1f} p95 {f['p95_ms']:6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--model", default=None, help="a model to use instead of an untrained one of --resolution")
    p.add_argument("--device", default="auto")
    p.add_argument("--display-fps", type=float, default=60.0, help="render-loop pacing of the threaded run (a 60 Hz display)")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    results = {"threaded": run_threaded(args), "process": run_threaded(args, process=True),
               "sequential": run_sequential(args)}
    what = args.model or f"untrained {args.resolution} px model (width {args.width})"
    print(f"live pipeline, {args.frames} frames, {what} -> 1280x720, headless, "
          f"torch threads {args.torch_threads}")
    for name in ("threaded", "process", "sequential"):
        r = results[name]
        print(_row(name, r))
        print("            " + "  ".join(f"{k} p50 {v['p50_ms']:.1f} p95 {v['p95_ms']:.1f}"
                                        for k, v in r["stages"].items() if k != "frame") + " ms")
    for name in ("threaded", "process"):
        ratio = results[name]["generated_fps"] / max(results["sequential"]["generated_fps"], 1e-9)
        results[f"ratio_{name}_generated_fps"] = ratio
        print(f"{name} / sequential, generated images per second: {ratio:.2f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
