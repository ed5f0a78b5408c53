"""Live weight blending's cost: the added time per generated image of a blend whose alpha changes every frame,
and of a trajectory whose position does, against the plain model, at 64 and 128 px.

    python bench/bench_blend.py [--sizes 64 128] [--frames 200] [--device cpu] [--threads 1] [--json]
    perform bench blend ...

`perform bench divergence` times the same blend under 4 bends. 64 px: the shipped
face-64 blended with face-64-diverged (its trajectory too); 128 px: two seeded untrained VAE-GANs (no 128 px
model ships). One torch thread by default, as `perform live` uses on a CPU. p50 over the frames, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _ms(fn, frames: int) -> tuple[float, float]:
    """(p50, min) in ms: the minimum is the least disturbed by other work on a shared machine."""
    for i in range(10):  # warm-up: first calls allocate and pick kernels
        fn(i)
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), min(times)


def _cards(size: int, tmp: Path) -> tuple[Path, Path]:
    if size == 64 and (ROOT / "models" / "face-64-diverged.json").exists():
        return ROOT / "models" / "face-64.json", ROOT / "models" / "face-64-diverged.json"
    import torch  # noqa: PLC0415 - this benchmark's heavy imports wait for its arguments

    from perform.nets.checkpoint import save_checkpoint  # noqa: PLC0415 - as above
    from perform.nets.vaegan import VAEGAN, VAEGANConfig  # noqa: PLC0415 - as above

    out = []
    for seed in (0, 1):
        cfg = VAEGANConfig(resolution=size)
        torch.manual_seed(seed)
        net = VAEGAN(cfg, with_critic=False)
        tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
        tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
        out.append(Path(save_checkpoint(tmp / f"u{size}-{seed}", tensors,
                                        {"kind": "vaegan", "name": f"u{size}-{seed}", "config": cfg.to_dict()})))
    return out[0], out[1]


def blend_rows(sizes=(64, 128), frames: int = 200, device: str = "cpu") -> list[dict]:
    """Per size, (p50, min) ms: `plain` the model alone; `fixed` the blend at a fixed alpha; `moving` the blend
    with alpha changing every frame; `write` writing the blended weights alone (what a moving alpha adds);
    (64 px) `trajectory` the diverged model with its position changing every frame. `added_ms`: moving - plain (p50)."""
    from perform.nets.blend import build_blend  # noqa: PLC0415 - as above
    from perform.nets.model import load_model  # noqa: PLC0415 - as above

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            a, b = _cards(size, Path(tmp))
            plain = load_model(a, device)
            blend = build_blend(a, b, plain.device)
            z = np.random.default_rng(0).standard_normal(plain.latent_dim).astype(np.float32)
            alphas = (np.sin(np.arange(frames + 10) * 0.1) * 0.5 + 0.5).astype(float)  # a fader moving every frame
            row = {"size": size, "models": f"{a.stem} + {b.stem}", "plain": _ms(lambda i: plain.generate(z), frames)}
            blend.set_net_params({"blend.alpha": 0.5})
            row["fixed"] = _ms(lambda i: blend.generate(z), frames)

            def moving(i: int) -> None:
                blend.set_net_params({"blend.alpha": alphas[i % len(alphas)]})
                blend.generate(z)

            def write(i: int) -> None:
                blend.set_net_params({"blend.alpha": alphas[i % len(alphas)]})
                blend.apply()

            row["moving"] = _ms(moving, frames)
            row["write"] = _ms(write, frames)
            row["added_ms"] = row["moving"][0] - row["plain"][0]
            if b.stem.endswith("diverged"):
                traj = load_model(b, device)

                def travel(i: int) -> None:
                    traj.set_net_params({"trajectory.position": alphas[i % len(alphas)]})
                    traj.generate(z)

                row["trajectory"] = _ms(travel, frames)
            rows.append(row)
    return rows


def main() -> int:
    from perform.commands.options import device as device_option  # a missing device: a usage error

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--device", type=device_option, default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch  # noqa: PLC0415 - as above

    torch.set_num_threads(args.threads)
    rows = blend_rows(tuple(args.sizes), args.frames, args.device)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"live blend, ms per image, p50 / min ({args.device}, {args.threads} torch thread(s), {args.frames} frames)")
    print("| size | models | plain | blend, alpha fixed | blend, alpha every frame | weight write alone | trajectory, position every frame |")
    print("|---|---|---|---|---|---|---|")

    def cell(v) -> str:
        return f"{v[0]:.2f} / {v[1]:.2f}" if v else "-"

    for r in rows:
        print(f"| {r['size']} | {r['models']} | {cell(r['plain'])} | {cell(r['fixed'])} | {cell(r['moving'])} "
              f"| {cell(r['write'])} | {cell(r.get('trajectory'))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
