"""`perform capture`: build a face dataset (aligned crops + manifest) from a camera, videos or images."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from perform.commands import options
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", metavar="DIR", help="a folder of photos (searched recursively)")
    src.add_argument("--video", metavar="FILE", nargs="+", help="one or more video files")
    src.add_argument("--camera", metavar="N", type=int, help="a camera index (with --seconds)")
    p.add_argument("--seconds", type=options.duration, default=30.0, help="how long to capture from the camera (default 30)")
    p.add_argument("--every", type=options.duration, default=0.2, metavar="S",
                   help="for video and camera: take a frame every S seconds (default 0.2)")
    p.add_argument("--size", type=int, choices=(64, 128, 256), default=64, help="crop side in pixels (default 64)")
    p.add_argument("--dedup", type=float, default=2.5,
                   help="near-duplicate threshold: mean grey difference of 16x16 thumbnails, 0..255 (0 keeps all)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (new, or without a dataset in it)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; cv2 and MediaPipe only when this runs
    from perform.capture import faces as capture

    total = None
    if args.images:
        paths, items = capture.folder_images(args.images)
        total, origin = len(paths), args.images
    elif args.video:
        missing = [v for v in args.video if not Path(v).is_file()]
        if missing:  # a typo, refused before any folder is made; an unreadable video is one skip among many
            raise PerformError(f"video file not found: {', '.join(missing)}")
        items, origin = capture.video_frames(args.video, args.every), " ".join(args.video)
    else:
        items, origin = capture.camera_frames(args.camera, args.seconds, args.every), f"camera:{args.camera}"
    report = capture.capture_images(items, args.out, args.size, dedup=args.dedup, progress=not args.no_progress,
                                    total=total, description={"origin": origin})
    if report.seen == 0:
        raise PerformError(f"no frames came from {origin}; nothing was written")
    if report.saved == 0:
        reasons = Counter(why for _, why in report.skipped).most_common(3)
        raise PerformError(f"no faces found in {origin} ({report.seen} images looked at: "
                           + "; ".join(f"{why} ({n})" for why, n in reasons)
                           + f"); every image's reason is in {report.out_dir / capture.SKIPPED}")
    print(report.summary())
    return 0
