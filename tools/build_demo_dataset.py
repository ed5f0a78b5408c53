"""Build the demo face dataset the shipped model is trained on (a one-off; needs scikit-image, a dev dependency).

Astronaut variants: the shipped public-domain NASA portrait posed, turned, lit and tinted by the synthetic
source's renderer over varied backdrops. LFW: the faces of scikit-image's lfw_subset (Labeled Faces in the
Wild; research use under the LFW terms), upsampled and tinted. Every image goes through the live tracker's
MediaPipe face mesh and aligner, so the crops are framed exactly as `perform live` frames the performer.

    python tools/build_demo_dataset.py OUT_DIR [--astronaut 480] [--lfw-tints 3] [--size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from perform.sources.photo import astronaut
from perform.sources.synthetic import Pose, background, render_pose
from perform.tracking.align import align_face
from perform.tracking.features import compute_features
from perform.tracking.tracker import create_face_mesh, detect_landmarks

LICENCE = ("astronaut variants: NASA portrait of Eileen Collins, public domain; "
           "LFW faces (scikit-image lfw_subset): Labeled Faces in the Wild, University of Massachusetts Amherst, "
           "research use under the LFW terms")


def random_pose(rng: np.random.Generator) -> Pose:
    return Pose(centre=(rng.uniform(0.4, 0.6), rng.uniform(0.38, 0.52)), eye_dist=rng.uniform(0.14, 0.22),
                roll_deg=rng.uniform(-20, 20), turn=rng.uniform(-0.7, 0.7),
                gain=tuple(float(g) for g in rng.uniform(0.7, 1.25, 3)), gamma=rng.uniform(0.7, 1.4),
                offset=rng.uniform(-25, 25))


def tint(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey (H, W) uint8 face -> RGB, with a random colour gain and a warm/cool cast."""
    rgb = np.repeat(grey[..., None].astype(np.float32), 3, axis=2)
    gain = rng.uniform(0.75, 1.2, 3) * np.array([1.08, 0.98, 0.88])  # skin-ish, then varied
    return np.clip(rgb * gain + rng.uniform(-15, 15), 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--astronaut", type=int, default=480, help="astronaut variants to render")
    ap.add_argument("--lfw-tints", type=int, default=3, help="tinted copies of each LFW face")
    ap.add_argument("--size", type=int, default=128, help="crop side in pixels")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    mesh = create_face_mesh(static=True)
    records, missed = [], 0

    def add(image: np.ndarray, name: str, origin: str) -> None:
        nonlocal missed
        lm = detect_landmarks(mesh, image)
        if lm is None:
            missed += 1
            return
        h, w = image.shape[:2]
        crop = align_face(image, lm, args.size)
        cv2.imwrite(str(out / name), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        feats = {k: round(float(v), 4) for k, v in compute_features(lm, (w, h)).items()}
        records.append({"file": name, "origin": origin, "features": feats})

    photo = astronaut()
    for i in range(args.astronaut):
        size = (320, 320)
        img = render_pose(photo, random_pose(rng), size, backdrop=background(size, seed=int(rng.integers(1 << 30))))
        add(img, f"astronaut-{i:04d}.png", "astronaut")

    import skimage.data  # dev-only dependency, used by this one-off script alone

    faces = skimage.data.lfw_subset()[:100]  # the first 100 are faces, the rest are not
    for i, f in enumerate(faces):
        grey = cv2.resize((f * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
        grey = cv2.copyMakeBorder(grey, 100, 100, 100, 100, cv2.BORDER_REPLICATE)  # room for the aligner
        for t in range(args.lfw_tints):
            add(tint(grey, rng), f"lfw-{i:03d}-{t}.png", "lfw")

    with open(out / "manifest.jsonl", "w") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    n_astro = sum(r["origin"] == "astronaut" for r in records)
    info = {"source": f"perform demo faces: {n_astro} astronaut variants + {len(records) - n_astro} tinted LFW crops "
                      f"(tools/build_demo_dataset.py, seed {args.seed})", "licence": LICENCE}
    (out / "dataset.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"{len(records)} crops written to {out} ({missed} images with no face found)")


if __name__ == "__main__":
    main()
