"""Live pipeline benchmark: the live clock (inference in a thread, or in its own process) against a plain
sequential loop doing the same work, and each stage measured alone in the same run.

Synthetic camera (640x480, 30 fps) -> MediaPipe face mesh -> VAE-GAN (the shipped model by default) -> shader
chain -> 1280x720, headless (EGL). Reports fps, p50/p95 frame time and per-stage latencies for each, the
physical limit the stages alone allow beside what each run achieved (as ratios), and the ratio to the
sequential loop; --chart writes a PNG of where the camera-to-screen latency goes.

    python bench/bench_live.py [--frames 600] [--model PATH|untrained] [--resolution 128] [--json out.json]
                               [--chart out.png]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def build(args):
    from perform.engine.defaults import UNTRAINED, default_model_ref, default_setlist
    from perform.engine.show import build_show
    from perform.nets.model import random_vaegan
    from perform.nets.vaegan import VAEGANConfig

    ref = args.model or default_model_ref()
    sl = default_setlist(ref, size=(1280, 720))
    models = None
    if ref == UNTRAINED:  # an untrained model costs what a trained one of the same shape costs
        key = str(sl.scenes[0].model_path)
        models = {key: random_vaegan(VAEGANConfig(resolution=args.resolution, latent_dim=64, width=args.width),
                                     device=args.device, precision=args.precision)}
    show = build_show(sl, device=args.device, models=models, precision=args.precision)
    return show.setlist, show.models, show.conductor


def run_threaded(args, process: bool = False, chained: bool = False, one_child: bool = False,
                 plain: bool = False) -> dict:
    """The live clock: inference in a thread, in its own process, or chained (capture and tracking in a
    child of their own, a frame ahead: the default of `perform live`; one_child: in the model's child).
    plain: without the phase lock, the in-betweens and the 1 ms GIL switch interval (as before them)."""
    from functools import partial

    from perform.engine.chain import ChainSpec
    from perform.engine.inbetweens import wanted
    from perform.engine.live_clock import LiveOptions, LiveRunner
    from perform.engine.presenter import ChainPresenter
    from perform.render.context import create_headless_context
    from perform.sources.synthetic import SyntheticSource
    from perform.tracking.tracker import FaceTracker

    sl, models, conductor = build(args)
    res = next(iter(models.values())).resolution
    infer = None
    if process or chained:
        from perform.engine.inference_process import ChainedInference, InferenceProcess

        if chained:
            chain = ChainSpec(partial(SyntheticSource, fps=30), partial(FaceTracker, crop_size=res), "synthetic")
            kind = InferenceProcess if one_child else ChainedInference
            infer = kind(models, device="cpu", threads=args.torch_threads, chain=chain)
        else:
            infer = InferenceProcess(models, device="cpu", threads=args.torch_threads)
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, sl.show.size, conductor, hot_reload=False)
    runner = LiveRunner(SyntheticSource(fps=30), lambda: FaceTracker(crop_size=res), conductor, presenter, None,
                        LiveOptions(fps=args.display_fps, frames=args.frames, hud=False, infer=infer,
                                    phase_lock=not (plain or args.no_phase_lock),
                                    inbetweens=not plain and wanted(args.inbetweens),
                                    switch_interval_s=None if plain else 0.001))
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
    """capture -> track -> infer -> render in one thread, one after another, for each camera frame."""
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
    period = 1.0 / src.fps
    k_last = -1
    for n in range(args.frames):
        # the source as a 30 fps camera is read: the newest frame, or, when that one was used, the next one
        # (waited for); stamped once made, as SyntheticSource.read() stamps it for the live clock
        k = int((time.perf_counter() - t_start) / period)
        if k <= k_last:
            k = k_last + 1
            time.sleep(max(0.0, t_start + k * period - time.perf_counter()))
        k_last = k
        t0 = time.perf_counter()
        if t_prev is not None:
            stats.add("frame", (t0 - t_prev) * 1000)
        t_prev = t0
        frame = src.frame_at(k * period, k)
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
        stats.add("camera_to_screen", (t4 - t1) * 1000)
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


def run_alone(args, n: int = 90) -> dict:
    """Each stage alone, one after another on an otherwise idle process: the physical limit of the machine."""
    from perform.engine.plan import generate
    from perform.engine.presenter import ChainPresenter
    from perform.engine.timing import TimingStats
    from perform.render.context import create_headless_context
    from perform.sources.synthetic import SyntheticSource
    from perform.tracking.tracker import FaceTracker

    sl, models, conductor = build(args)
    res = next(iter(models.values())).resolution
    src = SyntheticSource(fps=30)
    stats = TimingStats(keep_all=True)
    frames = [src.frame_at(i / 30, i) for i in range(n)]
    with FaceTracker(crop_size=res) as tracker:
        faces = []
        for f in frames:
            t0 = time.perf_counter()
            faces.append(tracker.process(f))
            stats.add("track", (time.perf_counter() - t0) * 1000)
    for m in models.values():
        m.generate(np.zeros(m.latent_dim, np.float32))
    plans = [conductor.step(i / 30, i, face, [], "ok") for i, face in enumerate(faces)]
    gens = []
    for plan in plans:
        t0 = time.perf_counter()
        gens.append(generate(plan, models))
        stats.add("infer", (time.perf_counter() - t0) * 1000)
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, sl.show.size, conductor, hot_reload=False)
    for plan, gen in zip(plans, gens):
        t0 = time.perf_counter()
        presenter.draw(plan, gen, [])
        presenter.present()
        ctx.finish()
        stats.add("render", (time.perf_counter() - t0) * 1000)
    presenter.close()
    ctx.release()
    return stats.as_dict()


def limits(alone: dict, camera_fps: float, display_fps: float) -> dict:
    """What the stages alone allow: tracking and inference overlap on two cores, so images/s is bounded by
    the camera and by the slower of the two (with in-betweens, by the display and the model alone: images
    between camera frames need no tracking); the display by its rate and the render time; camera-to-screen
    by tracking + inference + one render, nothing waiting."""
    st = alone["stages"]
    track, infer, render = st["track"], st["infer"], st["render"]
    return {
        "generated_fps": min(camera_fps, 1000.0 / max(track["p50_ms"], infer["p50_ms"])),
        "generated_fps_inbetweens": min(display_fps, 1000.0 / infer["p50_ms"]),
        "display_fps": min(display_fps, 1000.0 / render["p50_ms"]),
        "camera_to_screen_p50_ms": track["p50_ms"] + infer["p50_ms"] + render["p50_ms"],
        "camera_to_screen_p95_ms": track["p95_ms"] + infer["p95_ms"] + render["p95_ms"],
    }


def against_limit(r: dict, limit: dict) -> dict:
    """Achieved over the limit (rates: 1.0 is the limit, lower is worse; latency: 1.0 is the limit, higher
    is worse)."""
    c2s = r["stages"].get("camera_to_screen", {"p50_ms": float("nan"), "p95_ms": float("nan")})
    inbetweens = r.get("inbetweens", False)
    return {"generated_fps": r["generated_fps"] / limit["generated_fps_inbetweens" if inbetweens else "generated_fps"],
            "display_fps": r["display_fps"] / limit["display_fps"],
            "camera_to_screen_p50": c2s["p50_ms"] / limit["camera_to_screen_p50_ms"],
            "camera_to_screen_p95": c2s["p95_ms"] / limit["camera_to_screen_p95_ms"]}


RUNS = ("chained", "chained-plain", "chained-one", "process", "threaded", "sequential")
BREAKDOWN = ("track", "infer", "render")  # camera-to-screen counts from the frame made: no capture


def write_chart(results: dict, path: str) -> None:
    """Stacked bars: the camera-to-screen p50 of each run split into its stages' p50 and the rest (waiting
    for a hand-over, a tick, a core)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in ("limit",) + RUNS if n == "limit" or n in results]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    for i, name in enumerate(names):
        st = results["alone" if name == "limit" else name]["stages"]
        parts = [(k, st[k]["p50_ms"] if k in st else 0.0) for k in BREAKDOWN]
        total = (results["limit"]["camera_to_screen_p50_ms"] if name == "limit"
                 else st["camera_to_screen"]["p50_ms"])
        parts.append(("waiting", max(0.0, total - sum(v for _, v in parts))))
        left = 0.0
        for j, (k, v) in enumerate(parts):
            ax.barh(i, v, left=left, color=f"C{j}", label=k if i == 0 else None)
            left += v
        ax.text(left + 0.5, i, f"{total:.1f} ms", va="center", fontsize=8)
    labels = {"limit": "stages alone", "chained": "live (chained)", "chained-plain": "live (chained, plain)",
              "chained-one": "live (chained, 1 child)",
              "process": "live (process)",
              "threaded": "live (thread)", "sequential": "sequential"}
    ax.set_yticks(range(len(names)), [labels[n] for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("camera-to-screen p50, ms (stage p50s; waiting = the rest)")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _load() -> str:
    """The machine's 1-minute load average (others' jobs share these cores: say so beside every figure)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def _row(name: str, r: dict) -> str:
    f = r["stages"]["frame"]
    return (f"{name:<11} display {r['display_fps']:6.1f} fps  generated {r['generated_fps']:5.1f}/s  "
            f"tracked {r['tracked_fps']:5.1f}/s  frame p50 {f['p50_ms']:6.1f} p95 {f['p95_ms']:6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    from perform.commands.options import device as device_option  # a missing device: a usage error

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--model", default=None,
                   help="a model card (default: the shipped model); 'untrained': random weights at --resolution")
    p.add_argument("--device", type=device_option, default="auto")
    p.add_argument("--display-fps", type=float, default=60.0, help="render-loop pacing of the threaded run (a 60 Hz display)")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--json", default=None)
    p.add_argument("--chart", default=None, help="write the latency breakdown chart (PNG) here")
    p.add_argument("--runs", default="chained,process,threaded,sequential",
                   help="which runs, comma-separated (chained is the default of perform live; chained-plain: the same "
                        "without phase lock, in-betweens and the 1 ms switch interval; chained-one: capture, "
                        "tracking and the model in one child; process: inference in its own process, tracking here; "
                        "threaded: inference in a thread; sequential)")
    p.add_argument("--repeats", type=int, default=1, help="run each this many times, interleaved")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                   help="the models' precision, as perform live --precision")
    p.add_argument("--no-phase-lock", action="store_true", help="live runs: the ticks keep their own phase")
    p.add_argument("--inbetweens", choices=("auto", "on", "off"), default="auto",
                   help="chained runs: images between camera frames (auto, as perform live: on with 4+ cores)")
    args = p.parse_args(argv)
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    bad = sorted(set(runs) - set(RUNS))
    if bad:
        p.error(f"--runs: unknown {', '.join(bad)}")
    import torch

    torch.set_num_threads(args.torch_threads)
    from perform.engine.defaults import UNTRAINED, default_model_ref

    from perform.engine.inbetweens import wanted

    ref = args.model or default_model_ref()
    what = ref if ref != UNTRAINED else f"untrained {args.resolution} px model (width {args.width})"
    print(f"live pipeline, {args.frames} frames, {what} ({args.precision}) -> 1280x720, headless, torch threads "
          f"{args.torch_threads}, load average {_load()}")
    todo = {"chained": lambda: run_threaded(args, chained=True),
            "chained-plain": lambda: run_threaded(args, chained=True, plain=True),
            "chained-one": lambda: run_threaded(args, chained=True, one_child=True),
            "process": lambda: run_threaded(args, process=True),
            "threaded": lambda: run_threaded(args), "sequential": lambda: run_sequential(args)}
    results = {"alone": run_alone(args)}
    for k in range(args.repeats):
        for name in runs:
            r = todo[name]()
            r["load_average"] = _load()
            r["inbetweens"] = name == "chained" and wanted(args.inbetweens)
            results[name if k == 0 else f"{name}#{k + 1}"] = r
    names = [n for n in results if n != "alone"]
    for name in names:
        r = results[name]
        print(_row(name, r))
        print("            " + "  ".join(f"{k} p50 {v['p50_ms']:.1f} p95 {v['p95_ms']:.1f}"
                                        for k, v in r["stages"].items() if k != "frame") + " ms")
    print("alone       " + "  ".join(f"{k} p50 {v['p50_ms']:.1f} p95 {v['p95_ms']:.1f}"
                                    for k, v in results["alone"]["stages"].items()) + " ms")
    lim = results["limit"] = limits(results["alone"], 30.0, args.display_fps)
    print(f"limit       display {lim['display_fps']:6.1f} fps  generated {lim['generated_fps']:5.1f}/s "
          f"({lim['generated_fps_inbetweens']:.1f}/s with in-betweens)  "
          f"camera>screen p50 {lim['camera_to_screen_p50_ms']:.1f} p95 {lim['camera_to_screen_p95_ms']:.1f} ms "
          "(stages alone)")
    for name in names:
        r = results[name]
        _, _, k = name.partition("#")
        seq = results.get(f"sequential#{k}" if k else "sequential")  # the sequential run of the same round
        vs = results[f"{name}_vs_limit"] = against_limit(r, lim)
        line = (f"{name:<11} of the limit: generated {vs['generated_fps']:.2f}x  display {vs['display_fps']:.2f}x  "
                f"camera>screen p50 {vs['camera_to_screen_p50']:.2f}x p95 {vs['camera_to_screen_p95']:.2f}x")
        if seq is not None and not name.startswith("sequential"):
            ratio = r["generated_fps"] / max(seq["generated_fps"], 1e-9)
            lat = r["stages"]["camera_to_screen"]["p50_ms"] / seq["stages"]["camera_to_screen"]["p50_ms"]
            results[f"ratio_{name}_generated_fps"] = ratio
            results[f"ratio_{name}_camera_to_screen_p50"] = lat
            line += f"  | of sequential: generated {ratio:.2f}x  camera>screen p50 {lat:.2f}x"
        print(line)
    if args.chart:
        write_chart(results, args.chart)
        print(f"chart: {args.chart}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
