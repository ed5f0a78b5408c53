"""Figures for docs/models/ from a training run: loss and metric curves, the final sample and reconstruction grids.

    python tools/model_report.py RUN_DIR OUT_PREFIX [--model models/face-64]   # e.g. OUT_PREFIX docs/models/face-64

With --model, also a grid walking the latent from the data's mean latent along each of the first directions in the model's card.

Needs matplotlib (a dev tool, like this script); the run folder is what `perform train` wrote.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("prefix")
    ap.add_argument("--model", help="exported model whose card directions to draw")
    ap.add_argument("--directions", default="pc0,pc1,pc2,sefa0,sefa1,yaw,pitch,mouth_open")
    args = ap.parse_args()
    run, prefix = Path(args.run), Path(args.prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)

    import matplotlib  # an optional dev dependency: imported only once the arguments parsed

    matplotlib.use("Agg")  # before pyplot is imported, so no display is needed
    import matplotlib.pyplot as plt

    log, metrics = _rows(run / "log.jsonl"), _rows(run / "metrics.jsonl")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    steps = [r["step"] for r in log]
    for key, label in (("rec_pix", "pixel L1"), ("rec_feat", "critic-feature MSE")):
        axes[0].plot(steps, [r[key] for r in log], label=label, lw=1)
    axes[0].set_title("reconstruction (training batches)")
    axes[1].plot(steps, [r["wdist"] for r in log], label="critic Wasserstein estimate", lw=1)
    axes[1].plot(steps, [r["kl"] for r in log], label="KL per latent dim", lw=1)
    axes[1].set_title("adversarial and KL terms")
    m_steps = [r["step"] for r in metrics]
    if metrics:
        axes[2].plot(m_steps, [r.get("psnr_db", float("nan")) for r in metrics], "o-", label="held-out PSNR (dB)")
        ax2 = axes[2].twinx()
        ax2.plot(m_steps, [r.get("ssim", float("nan")) for r in metrics], "s-", color="C1", label="held-out SSIM")
        ax2.plot(m_steps, [r["diversity"] for r in metrics], "^-", color="C2", label="sample diversity")
        ax2.legend(loc="lower right", fontsize=8)
    axes[2].set_title("metrics at checkpoints")
    for ax in axes:
        ax.set_xlabel("generator step")
        ax.legend(loc="upper right" if ax is not axes[2] else "upper left", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{prefix}-curves.png", dpi=90)
    for kind in ("samples", "recon"):
        grids = sorted((run / "samples").glob(f"{kind}-*.png"))
        if grids:
            shutil.copyfile(grids[-1], f"{prefix}-{kind}.png")
    if args.model:
        _directions_grid(args.model, [d for d in args.directions.split(",") if d], Path(f"{prefix}-directions.png"))
    print(f"wrote {prefix}-curves.png, {prefix}-samples.png, {prefix}-recon.png")


def _directions_grid(model_path: str, names: list[str], out: Path, steps: tuple[float, ...] = (-3, -2, -1, 0, 1, 2, 3)) -> None:
    """One row per direction: the image at centre + t * direction for each t, centre = the data's mean latent."""
    # only with --model: the curves alone need neither torch nor the model
    import numpy as np

    from perform.nets.model import load_model
    from perform.training.grids import make_grid, save_png

    model = load_model(model_path, device="cpu")
    dirs = model.directions
    rows = [n for n in names if n in dirs]
    stats = model.info.card.get("latent_stats") or {}
    centre = np.asarray(stats.get("mean", np.zeros(model.latent_dim)), np.float32)  # where the data lives
    images = [model.generate(centre + t * dirs[n]) for n in rows for t in steps]
    save_png(out, make_grid(np.stack(images), cols=len(steps)))
    print(f"wrote {out}: rows {', '.join(rows)}; columns t = {steps}")


if __name__ == "__main__":
    main()
