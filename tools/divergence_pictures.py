"""The pictures of docs/divergence.md: each bend on the shipped face model at rising strength, and the cluster
contact sheets of the shipped models (from the clusters stored in their cards; `perform clusters` finds them).

    python tools/divergence_pictures.py [--out docs/img/divergence]

JPEG at quality 85: a fifth of the PNG's size, and these pictures are photographs more than line art.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from perform.nets.bending.bent import BentModel
from perform.nets.bending.clusters import contact_sheet, sample_latents
from perform.nets.bending.table import BendSpec
from perform.nets.model import load_model

ROOT = Path(__file__).resolve().parent.parent
STEPS = 6
# transform: (layer, target, {param: (from, to)}) — from identity to a strong value
STRIPS = {
    "rotate": ("res8", "all", {"angle": (0.0, 180.0)}),
    "scale": ("res8", "all", {"x": (1.0, 2.5), "y": (1.0, 0.6)}),
    "translate": ("res8", "all", {"x": (0.0, 0.5)}),
    "flip": ("res8", "all", {"x": (0.0, 1.0)}),
    "zoom": ("res8", "all", {"factor": (1.0, 3.0), "cx": (0.0, 0.0), "cy": (0.0, -0.3)}),
    "ablate": ("res16", "cluster:0", {"amount": (0.0, 1.0)}),
    "invert": ("res16", "cluster:1", {"amount": (0.0, 0.6)}),
    "threshold": ("res16", "all", {"level": (0.0, 0.8)}),
    "binarise": ("res16", "all", {"amount": (0.0, 1.0)}),
    "erode": ("res64", "all", {"radius": (0.0, 2.0)}),
    "dilate": ("res64", "all", {"radius": (0.0, 2.0)}),
    "sine-fold": ("res16", "all", {"amount": (0.0, 1.0), "frequency": (6.0, 6.0)}),
    "noise": ("res8", "all", {"amount": (0.0, 2.0)}),
}


def label(text: str, w: int, h: int, scale: float = 0.4) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    cv2.putText(img, text, (4, h // 2 + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def strips(card: Path, cell: int = 64) -> np.ndarray:
    """One row per transform: the image as it is, then rising strength."""
    z = sample_latents(load_model(card, "cpu"), 1, 1)[0].numpy()
    rows = [np.concatenate([label("", 150, 18)] + [label(f"{k / (STEPS - 1):.0%}", cell, 18, 0.35) for k in range(STEPS)], 1)]
    for name, (layer, target, params) in STRIPS.items():
        m = BentModel(load_model(card, "cpu"), [BendSpec("b", layer, name, target, 3)])
        cells = []
        for k in range(STEPS):
            f = k / (STEPS - 1)
            m.set_net_params({f"bend.b.{p}": a + f * (b - a) for p, (a, b) in params.items()})
            cells.append(m.generate(z))
        text = f"{name} {layer}" + ("" if target == "all" else f" {target.split(':')[0]}")
        rows.append(np.concatenate([label(text, 150, cell)] + cells, 1))
    return np.concatenate(rows, 0)


def write(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise OSError(f"{path}: could not write")
    print(f"{path}: {path.stat().st_size // 1024} KiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "divergence")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "bend-strips.jpg", strips(ROOT / "models" / "face-64.json"))
    for name in ("face-64", "pair-diametric", "pair-tug-of-war"):
        model = load_model(ROOT / "models" / f"{name}.json", "cpu")
        write(args.out / f"{name}-clusters.jpg", contact_sheet(model, model.info.card["clusters"]))


if __name__ == "__main__":
    main()
