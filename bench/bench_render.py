"""Shader chain cost per frame: 0..4 effect passes, readback and HUD; and the display filters side by side.

Run: python bench/bench_render.py [--frames 120] [--source 128] [--output 1280x720] [--filters-only]
Each frame uploads a new source image (a generator makes one per frame), renders, and waits for the GPU
(ctx.finish) so the time is the real cost, not the time to queue commands. The display filters (linear,
bicubic, fsr at 720p and 1080p from 64 and 128 px) are measured interleaved, one frame of each in turn, so
a machine whose load comes and goes weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from perform.render.chain import ShaderChain
from perform.render.context import collect_garbage, create_headless_context, describe_context
from perform.render.hud import Hud
from perform.render.passes import PassSpec

EFFECTS = [
    PassSpec("colour_grade", params={"saturation": 1.3, "hue_shift": 20.0}),
    PassSpec("feedback", params={"decay": 0.8, "zoom": 1.02}),
    PassSpec("kaleidoscope", params={"segments": 6}),
    PassSpec("rgb_shift", params={"amount": 2.0}),
]


def _percentiles(ms: list[float]) -> tuple[float, float]:
    a = np.asarray(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def bench(ctx, n_effects: int, source: int, output: tuple[int, int], frames: int, filt: str = "linear",
          hud: Hud | None = None) -> dict:
    specs = [*EFFECTS[:n_effects], PassSpec("display", params={"filter": filt})]
    chain = ShaderChain(ctx, specs, (source, source), output)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (source, source, 3), dtype=np.uint8) for _ in range(8)]
    out = np.empty((output[1], output[0], 3), np.uint8)
    render_ms, read_ms = [], []
    try:
        for f in range(frames + 10):
            t0 = time.perf_counter()
            chain.upload(images[f % len(images)])
            chain.render(f / 60, f)
            if hud is not None:
                hud.update([f" 60.0 fps   frame p50 {f % 7:.1f} ms  p95 9.0 ms"], now_s=f / 60)
                hud.draw(chain.framebuffer)
            ctx.finish()
            t1 = time.perf_counter()
            chain.read_pixels(out)
            t2 = time.perf_counter()
            collect_garbage(ctx)
            if f >= 10:  # warm-up: shader compilation on first use, allocator
                render_ms.append((t1 - t0) * 1e3)
                read_ms.append((t2 - t1) * 1e3)
    finally:
        chain.release()
    r50, r95 = _percentiles(render_ms)
    k50, k95 = _percentiles(read_ms)
    return {"effects": n_effects, "filter": filt, "hud": hud is not None, "render_p50_ms": r50,
            "render_p95_ms": r95, "readback_p50_ms": k50, "readback_p95_ms": k95}


FILTERS = ("linear", "bicubic", "fsr")
FILTER_SOURCES = (64, 128)
FILTER_OUTPUTS = ((1280, 720), (1920, 1080))


def bench_filters(ctx, frames: int) -> list[dict]:
    """Render time of the display pass alone (no effects, contain) for each filter, source and output size."""
    rng = np.random.default_rng(0)
    runs = []
    for output in FILTER_OUTPUTS:
        for source in FILTER_SOURCES:
            images = [rng.integers(0, 256, (source, source, 3), dtype=np.uint8) for _ in range(8)]
            chains = {f: ShaderChain(ctx, [PassSpec("display", params={"filter": f})], (source, source), output)
                      for f in FILTERS}
            ms: dict[str, list[float]] = {f: [] for f in FILTERS}
            try:
                for frame in range(frames + 10):
                    for f, chain in chains.items():
                        t0 = time.perf_counter()
                        chain.upload(images[frame % len(images)])
                        chain.render(frame / 60, frame)
                        ctx.finish()
                        if frame >= 10:  # warm-up
                            ms[f].append((time.perf_counter() - t0) * 1e3)
                    collect_garbage(ctx)
            finally:
                for chain in chains.values():
                    chain.release()
            for f in FILTERS:
                p50, p95 = _percentiles(ms[f])
                runs.append({"filter": f, "source": source, "output": f"{output[0]}x{output[1]}",
                             "render_p50_ms": p50, "render_p95_ms": p95, "frames": frames})
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--source", type=int, default=128)
    ap.add_argument("--output", default="1280x720")
    ap.add_argument("--json", action="store_true", help="print one JSON object per line")
    ap.add_argument("--filters-only", action="store_true", help="only the display filters side by side")
    args = ap.parse_args()
    output = tuple(int(v) for v in args.output.split("x"))
    ctx = create_headless_context()
    if args.filters_only:
        print(f"# {describe_context(ctx)}; display filters alone, {args.frames} frames each, interleaved")
        _print_filters(bench_filters(ctx, args.frames), args.json)
        return
    print(f"# {describe_context(ctx)}; source {args.source} px -> {output[0]}x{output[1]}, {args.frames} frames")
    runs = [bench(ctx, n, args.source, output, args.frames) for n in range(len(EFFECTS) + 1)]
    runs.append(bench(ctx, 0, args.source, output, args.frames, filt="bicubic"))
    hud = Hud(ctx)
    runs.append(bench(ctx, 4, args.source, output, args.frames, hud=hud))
    hud.release()
    filters = bench_filters(ctx, args.frames)
    if args.json:
        for r in runs:
            print(json.dumps(r))
        _print_filters(filters, True)
        return
    print(f"{'effects':>7} {'filter':>8} {'hud':>4} | {'render p50':>10} {'p95':>7} | {'readback p50':>12} {'p95':>7}  (ms)")
    for r in runs:
        print(f"{r['effects']:>7} {r['filter']:>8} {('yes' if r['hud'] else 'no'):>4} | {r['render_p50_ms']:>10.2f} "
              f"{r['render_p95_ms']:>7.2f} | {r['readback_p50_ms']:>12.2f} {r['readback_p95_ms']:>7.2f}")
    _print_filters(filters, False)


def _print_filters(runs: list[dict], as_json: bool) -> None:
    if as_json:
        for r in runs:
            print(json.dumps(r))
        return
    print(f"\n{'output':>9} {'source':>6} {'filter':>8} | {'render p50':>10} {'p95':>7}  (ms, display pass alone)")
    for r in runs:
        print(f"{r['output']:>9} {r['source']:>6} {r['filter']:>8} | {r['render_p50_ms']:>10.2f} {r['render_p95_ms']:>7.2f}")


if __name__ == "__main__":
    main()
