"""`perform rehearse [SETLIST]`: the fixed clock, frame n at n/fps; render to video or preview."""

from __future__ import annotations

import argparse

from perform.commands import options
from perform.commands.live import add_model_arguments, add_setlist_argument, add_stats_argument
from perform.commands.options import parse_size
from perform.outputs.options import add_output_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_setlist_argument(p)
    src = p.add_argument_group("input (one of; default: the setlist's own input)")
    src.add_argument("--session", default=None, metavar="DIR", help="a recorded session folder (face track + events)")
    src.add_argument("--video", default=None, metavar="FILE", help="a face video, tracked on the fly")
    src.add_argument("--synthetic", action="store_true", help="the synthetic camera")
    p.add_argument("--out", type=options.output_file, default=None, metavar="FILE.mp4", help="render to this H.264 video")
    p.add_argument("--audio", default=None, metavar="FILE",
                   help="an audio file: muxed into --out, and the source of the audio.* mapping signals, frame by "
                        "frame (the show reacts as it would live)")
    p.add_argument("--preview", action="store_true", help="show a window at real time instead (hot reload)")
    add_output_arguments(p)  # with --preview: the previewed frames, as a show would send them
    p.add_argument("--from", dest="t_from", type=options.seconds, default=0.0, metavar="S", help="start at this time (s)")
    p.add_argument("--to", dest="t_to", type=options.duration, default=None, metavar="S", help="stop at this time (s)")
    p.add_argument("--fps", type=options.fps, default=None, help="frame rate (default: the setlist's)")
    p.add_argument("--size", type=parse_size, default=None, metavar="WxH", help="output size (default: the setlist's)")
    p.add_argument("--crf", type=options.integer(0, 51, what="an H.264 quality"), default=18, help="H.264 quality, 0 (lossless) .. 51 (default 18)")
    p.add_argument("--x264-preset", default="superfast",
                   choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"),
                   help="encoder speed; at a given --crf slower presets make smaller files (default superfast)")
    p.add_argument("--x264-threads", type=options.integer(0, 64, what="a thread count"), default=0, metavar="N",
                   help="encoder threads (default 0: x264's own choice)")
    p.add_argument("--hashes", type=options.output_file, default=None, metavar="FILE", help="write a sha256 per frame (determinism checks)")
    add_stats_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--stall-s", type=options.number(0.0, above=True, what="seconds"), default=10.0, metavar="S",
                   help="with --inference process: a frame the model's process leaves unanswered this long gets it "
                        "restarted and the frames in flight generated again, the same images (default 10)")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; torch only when this runs
    from perform.engine.rehearsal import RehearseConfig, run_rehearse

    return run_rehearse(RehearseConfig.from_args(args))
