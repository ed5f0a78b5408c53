"""Net inference speed and reduced-precision error: generate (and encode) p50/p95, channels_last vs contiguous.

    python bench/bench_nets.py [--device cpu] [--precision fp32 bf16] [--sizes 64 128] [--calls 200] [--threads 1]
    python bench/bench_nets.py --error [--device cuda] [--precision fp32 fp16 bf16]   # image error vs CPU fp32, uint8 levels
    python bench/bench_nets.py --device cuda --precision fp32 fp16 --compile   # on a GPU

Models: models/face-64 (the shipped VAE-GAN) at 64 px, an untrained 128 px VAE-GAN, and the shipped pair
models/pair-tug-of-war (side by side). One torch thread by default, as `perform live` uses on a CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ERROR_SEED, ERROR_LATENTS = 1234, 64


def _models(size: int, device: str, precision: str):
    from perform.nets.model import load_model

    if size == 64:
        yield "face-64", load_model(ROOT / "models" / "face-64", device, precision)
        yield "pair-tug-of-war", load_model(ROOT / "models" / "pair-tug-of-war", device, precision)
    else:
        yield f"untrained-{size}", untrained(size, device, precision)


def untrained(size: int, device: str, precision: str):
    """A seeded random VAE-GAN whose BatchNorm statistics are set from its own activations (in fp32, then
    copied): with the default statistics the image is flat grey and every precision agrees trivially."""
    import torch

    from perform.nets.model import random_vaegan
    from perform.nets.pair import warm_batchnorm
    from perform.nets.vaegan import VAEGANConfig

    cfg = VAEGANConfig(resolution=size)
    ref = random_vaegan(cfg, seed=0, device="cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        warm_batchnorm(ref.net.generator, [torch.randn(16, cfg.latent_dim) for _ in range(2)])
    model = random_vaegan(cfg, seed=0, device=device, precision=precision)
    model.net.load_state_dict(ref.net.state_dict())  # copies into the placed (dtype, layout) parameters
    return model


def _contiguous(model) -> None:
    """The model's nets back in NCHW (the layout before channels_last)."""
    import torch

    for net in [getattr(model, n) for n in ("net", "gen_a", "gen_b") if hasattr(model, n)]:
        net.to(memory_format=torch.contiguous_format)


def _timed(fn, sync) -> tuple[float, float]:
    """(wall ms, this thread's CPU ms): on a shared machine the CPU time shows the work, the wall time the wait."""
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    sync()
    return (time.perf_counter() - t0) * 1000.0, (time.thread_time() - c0) * 1000.0


def bench_speed(args) -> list[dict]:
    """Every configuration of a size timed in interleaved rounds, so a change in the machine's load during
    the run falls on all of them alike (this machine is shared)."""
    import torch

    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    rows = []
    for size in args.sizes:
        cases = []  # (row, {stage: fn}, {stage: [ms]})
        for precision in args.precision:
            for layout in args.layouts:
                for name, model in _models(size, args.device, precision):
                    if layout == "contiguous":
                        _contiguous(model)
                    if args.compile:
                        from perform.nets.precision import compile_nets

                        compile_nets(model)
                    rng = np.random.default_rng(0)
                    z = rng.standard_normal(model.latent_dim).astype(np.float32)
                    crop = rng.integers(0, 256, (model.resolution, model.resolution, 3), dtype=np.uint8)
                    fns = {"generate": lambda m=model, z=z: m.generate(z)}
                    if hasattr(model, "encode"):
                        fns["encode"] = lambda m=model, c=crop: m.encode(c)
                    for fn in fns.values():  # warm-up: first calls allocate, pick kernels (and compile)
                        for _ in range(10):
                            fn()
                    row = {"model": name, "size": size, "precision": precision, "layout": layout, "device": args.device,
                           "compiled": args.compile, "threads": args.threads, "calls": args.calls}
                    cases.append((row, fns, {k: [] for k in fns}))
        rounds = 10
        for _ in range(rounds):
            for row, fns, times in cases:
                for stage, fn in fns.items():
                    times[stage] += [_timed(fn, sync) for _ in range(max(1, args.calls // rounds))]
        for row, fns, times in cases:
            line = f"{row['model']:<16} {size:>3}px {row['precision']} {row['layout']:<13}"
            for stage, ts in times.items():
                wall, cpu = np.array(ts).T
                row[f"{stage}_p50_ms"], row[f"{stage}_p95_ms"] = float(np.percentile(wall, 50)), float(np.percentile(wall, 95))
                row[f"{stage}_cpu_p50_ms"] = float(np.percentile(cpu, 50))
                line += (f"  {stage} p50 {row[f'{stage}_p50_ms']:6.2f} p95 {row[f'{stage}_p95_ms']:6.2f} "
                         f"(cpu p50 {row[f'{stage}_cpu_p50_ms']:6.2f}) ms")
            print(line, flush=True)
            rows.append(row)
    return rows


def image_error(reference, model, n: int = ERROR_LATENTS, seed: int = ERROR_SEED) -> tuple[int, float]:
    """(max, mean) absolute difference in uint8 levels between two models' images over a fixed batch of latents."""
    zs = np.random.default_rng(seed).standard_normal((n, reference.latent_dim)).astype(np.float32)
    diffs = [np.abs(reference.generate(z).astype(np.int16) - model.generate(z).astype(np.int16)) for z in zs]
    d = np.stack(diffs)
    return int(d.max()), float(d.mean())


def bench_error(args) -> list[dict]:
    rows = []
    for size in args.sizes:
        refs = dict(_models(size, "cpu", "fp32"))
        for precision in [p for p in args.precision if (p, args.device) != ("fp32", "cpu")]:  # fp32 on a GPU: kernel choice
            for name, model in _models(size, args.device, precision):
                mx, mean = image_error(refs[name], model)
                rows.append({"model": name, "size": size, "precision": precision, "device": args.device,
                             "max_abs_u8": mx, "mean_abs_u8": mean})
                print(f"{name:<16} {size:>3}px {precision} on {args.device} vs fp32 cpu: max {mx} mean {mean:.3f} uint8 levels "
                      f"({ERROR_LATENTS} latents, seed {ERROR_SEED})", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    from perform.commands.options import device as device_option  # a missing device: a usage error

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", type=device_option, default="cpu", help="cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", nargs="+", default=None, choices=("fp32", "bf16", "fp16"),
                   help="default: fp32 (speed), bf16 (--error)")
    p.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--threads", type=int, default=1, help="torch threads (live uses 1 on a CPU)")
    p.add_argument("--compile", action="store_true", help="torch.compile the nets (CUDA: CUDA graphs); the warm-up compiles")
    p.add_argument("--layouts", nargs="+", default=["contiguous", "channels_last"], choices=("contiguous", "channels_last"))
    p.add_argument("--error", action="store_true", help="measure image error against fp32 on the CPU instead of speed")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    import torch

    from perform.nets.device import pick_device

    pick_device(args.device)  # a clean message for a device this machine lacks
    torch.set_num_threads(args.threads)
    args.precision = args.precision or (["bf16"] if args.error else ["fp32"])
    rows = bench_error(args) if args.error else bench_speed(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
