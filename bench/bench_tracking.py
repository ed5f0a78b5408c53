"""Face tracking cost per frame at the camera's size, full-size vs scaled down to a track width.

    python bench/bench_tracking.py [--size 1280x720] [--frames 150] [--widths 0 1280 640]

The frame: a test face (tests/assets/faces) scaled to the frame's height, centred; width 0 = full size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 10  # frames tracked before the timing starts (the first detections)


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
    from perform.commands.options import integer
    from perform.sources.frame import Frame
    from perform.sources.photo import decode_image
    from perform.tracking.tracker import FaceTracker

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=parse_size, default=(1280, 720))
    p.add_argument("--frames", type=integer(WARMUP + 1, 1_000_000, what="a frame count (the first 10 are not timed)"),
                   default=150)
    p.add_argument("--widths", type=int, nargs="+", default=[0, 1280, 640], help="track widths to compare (0: full size)")
    p.add_argument("--face", default=str(ROOT / "tests" / "assets" / "faces" / "grace_hopper.jpg"))
    args = p.parse_args(argv)
    frame = make_frame(decode_image(Path(args.face).read_bytes(), args.face), args.size)
    # one tracker per width, fed in turn: a change in this shared machine's load falls on all alike
    trackers = {w: FaceTracker(crop_size=64, track_width=w or None) for w in args.widths}
    wall: dict[int, list[float]] = {w: [] for w in args.widths}
    cpu: dict[int, list[float]] = {w: [] for w in args.widths}
    present = dict.fromkeys(args.widths, 0)
    for i in range(args.frames):
        for w, t in trackers.items():
            t0, c0 = time.perf_counter(), time.process_time()  # process time: MediaPipe runs its own threads
            obs = t.process(Frame(frame, i / 30.0, i))
            if i >= WARMUP:  # after the first detections
                wall[w].append((time.perf_counter() - t0) * 1000.0)
                cpu[w].append((time.process_time() - c0) * 1000.0)
            present[w] += obs.present
    for w, t in trackers.items():
        t.close()
        print(f"{args.size[0]}x{args.size[1]} track width {w or 'full':>4}: present {present[w]}/{args.frames}  "
              f"track p50 {np.percentile(wall[w], 50):6.2f}  p95 {np.percentile(wall[w], 95):6.2f} ms  "
              f"cpu p50 {np.percentile(cpu[w], 50):6.2f} mean {np.mean(cpu[w]):6.2f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
