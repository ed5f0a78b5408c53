"""Build the demo face dataset the shipped model is trained on (a one-off; needs scikit-image, a dev dependency).

Astronaut variants: the shipped public-domain NASA portrait posed, turned, lit and tinted by the synthetic
source's renderer over varied backdrops. LFW: the faces of scikit-image's lfw_subset (Labeled Faces in the
Wild; research use under the LFW terms), upsampled and tinted. Both go through `capture_images`, the code
behind `perform capture` (the live tracker's MediaPipe face mesh and aligner), so the crops are framed
exactly as `perform live` frames the performer.

    python tools/build_demo_dataset.py OUT_DIR [--astronaut 480] [--lfw-tints 3] [--size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
from typing import Iterator

import cv2
import numpy as np

from perform.capture.faces import CaptureItem, astronaut_variants, capture_images

LICENCE = ("astronaut variants: NASA portrait of Eileen Collins, public domain; "
           "LFW faces (scikit-image lfw_subset): Labeled Faces in the Wild, University of Massachusetts Amherst, "
           "research use under the LFW terms")


def tint(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey (H, W) uint8 face -> RGB, with a random colour gain and a warm/cool cast."""
    rgb = np.repeat(grey[..., None].astype(np.float32), 3, axis=2)
    gain = rng.uniform(0.75, 1.2, 3) * np.array([1.08, 0.98, 0.88])  # skin-ish, then varied
    return np.clip(rgb * gain + rng.uniform(-15, 15), 0, 255).astype(np.uint8)


def lfw_faces(tints: int, seed: int) -> Iterator[CaptureItem]:
    """The 100 faces of lfw_subset, upsampled with a border (room for the aligner), each in `tints` tints."""
    import skimage.data  # dev-only dependency, used by this one-off script alone

    rng = np.random.default_rng(seed)
    for i, f in enumerate(skimage.data.lfw_subset()[:100]):  # the first 100 are faces, the rest are not
        grey = cv2.resize((f * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
        grey = cv2.copyMakeBorder(grey, 100, 100, 100, 100, cv2.BORDER_REPLICATE)
        for t in range(tints):
            yield CaptureItem(f"lfw-{i:03d}-{t}", tint(grey, rng), source="lfw")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--astronaut", type=int, default=480, help="astronaut variants to render")
    ap.add_argument("--lfw-tints", type=int, default=3, help="tinted copies of each LFW face")
    ap.add_argument("--size", type=int, default=128, help="crop side in pixels")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    astronauts = (CaptureItem(name, image, source="astronaut")
                  for name, image in astronaut_variants(args.astronaut, args.seed, roll_deg=20.0))
    source = (f"perform demo faces: {args.astronaut} astronaut variants + {100 * args.lfw_tints} tinted LFW faces "
              f"offered to capture (tools/build_demo_dataset.py, seed {args.seed})")
    # every face kept (no near-duplicate or face-size filter): the variants are meant to be close
    report = capture_images(itertools.chain(astronauts, lfw_faces(args.lfw_tints, args.seed + 1)), args.out,
                            args.size, dedup=0.0, min_face_scale=0.0, total=args.astronaut + 100 * args.lfw_tints,
                            description={"source": source, "licence": LICENCE})
    print(report.summary())


if __name__ == "__main__":
    main()
