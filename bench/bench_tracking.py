"""Face tracking cost per frame at the camera's size, full-size vs scaled down to a track width.

    python bench/bench_tracking.py [--size 1280x720] [--frames 150] [--widths 0 640 480 320]

The frame: a test face (tests/assets/faces) scaled to the frame's height, centred; width 0 = full size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def make_frame(face: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    w, h = size
    fh, fw = face.shape[:2]
    face = cv2.resize(face, (round(fw * h / fh), h), interpolation=cv2.INTER_CUBIC)
    out = np.full((h, w, 3), 60, np.uint8)
    x0 = max(0, (w - face.shape[1]) // 2)
    part = face[:, : w - x0]
    out[:, x0:x0 + part.shape[1]] = part
    return out


def main(argv: list[str] | None = None) -> int:
    from perform.commands.live import parse_size
    from perform.sources.frame import Frame
    from perform.sources.photo import decode_image
    from perform.tracking.tracker import FaceTracker

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=parse_size, default=(1280, 720))
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--widths", type=int, nargs="+", default=[0, 640, 480, 320])
    p.add_argument("--face", default=str(ROOT / "tests" / "assets" / "faces" / "grace_hopper.jpg"))
    args = p.parse_args(argv)
    frame = make_frame(decode_image(Path(args.face).read_bytes(), args.face), args.size)
    for width in args.widths:
        with FaceTracker(crop_size=64, track_width=width or None) as t:
            obs = [t.process(Frame(frame, i / 30.0, i)) for i in range(args.frames)]
        ms = np.array([o.track_ms for o in obs[10:]])  # after the first detections
        print(f"{args.size[0]}x{args.size[1]} track width {width or 'full':>4}: present {sum(o.present for o in obs)}/{len(obs)}  "
              f"track p50 {np.percentile(ms, 50):6.2f}  p95 {np.percentile(ms, 95):6.2f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
