"""Side-by-side stills of the display filters: a shipped model's image upscaled by linear, bicubic and fsr.

    python tools/upscale_stills.py docs/upscale-face64.png [--model models/face-64] [--output 1280x720]

Generates one image (perform's own model loading) at a latent drawn from the card's latent statistics, draws it through a display
pass with each filter at the output size (contain, as a show draws it), crops the same square from each
and writes them side by side (fsr at sharpness 0 and 1), labelled, as one PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

FILTERS = (("linear", {}), ("bicubic", {}), ("fsr", {"sharpness": 0.0}), ("fsr", {"sharpness": 1.0}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="PNG to write")
    ap.add_argument("--model", default="models/face-64")
    ap.add_argument("--output", default="1280x720", help="the output size the filters draw at")
    ap.add_argument("--crop", type=int, default=320, help="side of the square crop, in output pixels")
    ap.add_argument("--seed", type=int, default=3, help="seed of the latent (0: the card's mean latent)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.output.split("x"))

    import cv2  # opencv-contrib, which MediaPipe brings: PNG writing and the labels

    from perform.nets.model import load_model
    from perform.render.chain import ShaderChain
    from perform.render.context import create_headless_context
    from perform.render.passes import PassSpec

    model = load_model(args.model, device="cpu")
    stats = model.info.card.get("latent_stats")
    latent = np.zeros(model.latent_dim, np.float32)
    if stats:
        latent = np.asarray(stats["mean"], np.float32)
        if args.seed:
            latent = latent + np.asarray(stats["std"], np.float32) * np.random.default_rng(args.seed).standard_normal(
                model.latent_dim).astype(np.float32)
    elif args.seed:
        latent = np.random.default_rng(args.seed).standard_normal(model.latent_dim).astype(np.float32)
    image = model.generate(latent)  # (H, W, 3) uint8
    ctx = create_headless_context()
    crops = []
    size = args.crop
    x0, y0 = (w - size) // 2, (h - size) // 2 - h // 10  # the middle of the face, a little above the centre
    for name, params in FILTERS:
        chain = ShaderChain(ctx, [PassSpec("display", params={"filter": name, **params})], image.shape[1::-1], (w, h))
        try:
            chain.upload(image)
            chain.render(0.0, 0)
            out = chain.read_pixels()
        finally:
            chain.release()
        crop = np.ascontiguousarray(out[y0:y0 + size, x0:x0 + size, ::-1])  # BGR for cv2
        label = name + (f" (sharpness {params['sharpness']})" if params else "")
        cv2.putText(crop, label, (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(crop, label, (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
        crops.append(crop)
    gap = np.full((size, 4, 3), 255, np.uint8)
    row = np.concatenate([c for crop in crops for c in (crop, gap)][:-1], axis=1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), row, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}: {row.shape[1]}x{row.shape[0]}, {Path(args.out).stat().st_size // 1024} KiB; "
          f"{args.model} {image.shape[1]}x{image.shape[0]} -> {w}x{h}, crop {size} px at ({x0}, {y0})")


if __name__ == "__main__":
    main()
