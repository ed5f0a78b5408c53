"""Added cost of active divergence per generated image: 0, 1 and 4 active bends at 64 and 128 px.

    python bench/bench_divergence.py [--sizes 64 128] [--calls 200] [--threads 1] [--device cpu] [--json FILE]
    python bench/bench_divergence.py --live [bench_live options]   # the live pipeline, 4 bends and a live blend

64 px: the shipped face-64; 128 px: a seeded untrained VAE-GAN (bench_nets.untrained). The bends are the
divergence setlist's kinds: 1 = a rotation (one affine resampling of a layer); 4 = that, seeded noise on a
random half of another layer, a sine-fold and an erosion. Each row: the generate p50/p95 with every bend at
a non-identity value, and p50 minus the 0-bend p50 of the same model in the same run (what bending adds).
Rows alternate between configurations, so slow spells of a shared machine fall on all of them.
At 64 px two more rows: the 4 bends on face-64 blended live with face-64-diverged, blend.alpha moving every
call (the weights rewritten each time: the worst case of a fader in motion), and that blend alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# name, layer (by its map size relative to the output: 1/4, 1/8 ...), transform, target, live values
BENDS = [
    ("turn", 4, "rotate", "all", {"angle": 30.0}),
    ("grain", 8, "noise", "random:0.5", {"amount": 0.8, "step": 1.5}),
    ("fold", 2, "sine-fold", "all", {"amount": 0.6, "frequency": 4.0}),
    ("thin", 2, "erode", "random:0.25", {"radius": 1.0}),
]
DIVERGED = ROOT / "models" / "face-64-diverged.json"


def _moving_alpha(values: dict) -> "callable":
    """Per call i: `values` with blend.alpha on a sine that never repeats a value two calls running."""
    return lambda i: {**values, "blend.alpha": 0.5 + 0.45 * float(np.sin(i * 0.1))}


def _blend_rows(size: int, device: str) -> list:
    """(label, model, values) rows of a live blend on face-64 (the only size a diverged model ships at)."""
    if size != 64 or not DIVERGED.exists():
        return []
    from perform.nets.bending.bent import bend_model
    from perform.nets.bending.table import BendSpec
    from perform.nets.blend import build_blend

    base = _base(size, device)
    specs = [BendSpec(name, f"res{size // div}", t, target, 7) for name, div, t, target, _ in BENDS]
    values = {f"bend.{name}.{p}": v for name, _, _, _, vals in BENDS for p, v in vals.items()}
    blended = build_blend(ROOT / "models" / "face-64.json", DIVERGED, base.device)
    bent_blend = bend_model(build_blend(ROOT / "models" / "face-64.json", DIVERGED, base.device), specs)
    return [("blend, live a", blended, _moving_alpha({})), ("4 bends+blend", bent_blend, _moving_alpha(values))]


def _base(size: int, device: str):
    from perform.nets.model import load_model

    if size == 64:
        return load_model(ROOT / "models" / "face-64", device)
    from bench_nets import untrained

    return untrained(size, device, "fp32")


def _bent(size: int, device: str, n: int):
    from perform.nets.bending.bent import bend_model
    from perform.nets.bending.table import BendSpec

    chosen = BENDS[:n]
    specs = [BendSpec(name, f"res{size // div}", t, target, 7) for name, div, t, target, _ in chosen]
    values = {f"bend.{name}.{p}": v for name, _, _, _, vals in chosen for p, v in vals.items()}
    return bend_model(_base(size, device), specs), values


def _time(model, values, z, calls: int) -> list[float]:
    """ms per image; `values` a dict of net parameters, or a function of the call's index giving them."""
    at = values if callable(values) else (lambda i: values)
    if hasattr(model, "set_net_params"):
        model.set_net_params(at(0))
    for _ in range(5):
        model.generate(z)
    out = []
    for i in range(calls):
        t0 = time.perf_counter()
        if hasattr(model, "set_net_params"):
            model.set_net_params(at(i + 1))  # as every job does
        model.generate(z)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def live(argv: list[str]) -> int:
    """bench_live on the shipped face-64 with the 4 bends active and blended live with face-64-diverged
    (blend.alpha on an LFO: new weights every generated image), through a setlist as a show loads it."""
    import tempfile

    import bench_live

    plain_build = bench_live.build
    bends = "".join(
        f'[[scene.bend]]\nname = "{name}"\nlayer = "res{64 // div}"\ntransform = "{t}"\ntarget = "{target}"\nseed = 7\n'
        f"params = {{ {', '.join(f'{k} = {v}' for k, v in vals.items())} }}\n" for name, div, t, target, vals in BENDS)
    text = (f'[show]\nsize = [1280, 720]\n[[scene]]\nname = "bent"\nmodel = "{ROOT / "models" / "face-64.json"}"\n'
            f'drive = "both"\nmix = 0.7\nblend = {{ with = "{DIVERGED}", alpha = 0.3 }}\n{bends}'
            '[[scene.mapping]]\nsource = "lfo.sine"\ntarget = "blend.alpha"\nrate = 0.5\nout = [0.1, 0.9]\n')

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bent-blend.toml"
        path.write_text(text, encoding="utf-8")

        def bent_build(args):  # the models are loaded by build_show, as `perform live` loads them
            from perform.engine.show import build_show

            show = build_show(path, device=args.device)
            return show.setlist, show.models, show.conductor

        bench_live.build = bent_build
        try:
            print("live pipeline, face-64 with 4 active bends (" + ", ".join(f"{t} on res{64 // d}" for _, d, t, _, _ in BENDS)
                  + ") blended with face-64-diverged, blend.alpha on an LFO")
            return bench_live.main(argv)
        finally:
            bench_live.build = plain_build


def main(argv: list[str] | None = None) -> int:
    from perform.commands.options import device as device_option  # a missing device: a usage error

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--live"]:
        return live(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", type=device_option, default="cpu")
    ap.add_argument("--json", type=Path, help="write the rows here too")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    print(f"torch {torch.__version__}, {args.device}, {args.threads} thread(s), {args.calls} calls per row, in rounds")
    print(f"{'px':>4} {'configuration':<16} {'min ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'added min ms':>13} {'added p50 ms':>13}")
    for size in args.sizes:
        configs = [(f"{n} bend{'s' if n != 1 else ''}", *_bent(size, args.device, n)) for n in (0, 1, 4)]
        configs += _blend_rows(size, args.device)
        z = np.random.default_rng(0).standard_normal(configs[0][1].latent_dim).astype(np.float32)
        times: dict[str, list[float]] = {label: [] for label, _, _ in configs}
        rounds = 5
        for _ in range(rounds):  # interleaved: a busy spell of a shared machine falls on every row
            for label, model, values in configs:
                times[label] += _time(model, values, z, max(1, args.calls // rounds))
        base = float(np.percentile(times[configs[0][0]], 50))
        base_min = min(times[configs[0][0]])  # the least disturbed by other work on a shared machine
        for label, _, _ in configs:
            p50, p95 = (float(np.percentile(times[label], q)) for q in (50, 95))
            lo = min(times[label])
            rows.append({"px": size, "config": label, "min_ms": round(lo, 3), "p50_ms": round(p50, 3),
                         "p95_ms": round(p95, 3), "added_min_ms": round(lo - base_min, 3),
                         "added_p50_ms": round(p50 - base, 3)})
            print(f"{size:>4} {label:<16} {lo:8.2f} {p50:8.2f} {p95:8.2f} {lo - base_min:13.2f} {p50 - base:13.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
