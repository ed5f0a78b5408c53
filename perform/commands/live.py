"""`perform live [SETLIST]`: the instrument, live: source -> face -> model -> shaders -> window."""

from __future__ import annotations

import argparse

from perform.commands import options
from perform.commands.options import parse_size
from perform.outputs.options import add_output_arguments

PRECISIONS = ("fp32", "bf16", "fp16")  # perform.nets.precision.PRECISIONS, kept here so the CLI never imports torch


def add_setlist_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("setlist", nargs="?", default=None, help="setlist TOML (default: one scene on the shipped model)")


def add_stats_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stats-json", type=options.output_file, default=None, metavar="FILE", help="write the timing summary as JSON")


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None,
                   help="'camera' (default), 'camera:N', 'synthetic' (a camera with no hardware), or a video file")
    p.add_argument("--camera", type=int, default=None, metavar="N", help="camera index (same as --source camera:N)")
    p.add_argument("--capture-size", type=parse_size, default=(1280, 720), metavar="WxH", help="camera resolution to ask for")
    p.add_argument("--capture-fps", type=options.fps, default=30.0, help="camera frame rate to ask for")
    p.add_argument("--no-track", action="store_true", help="face tracking off (the model is driven by OSC and LFOs only)")


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model for every scene, overriding the setlist: a name (face-64; see `perform info`), "
                        "a name in ./models, or a path to its .safetensors/.json")
    p.add_argument("--device", type=options.device, default="auto", help="torch device: auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--torch-threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="model arithmetic: fp32 (default, the reference), bf16 (CPUs with AVX-512, CUDA), fp16 (CUDA, "
                        "MPS); image error vs fp32 in docs/performance.md")
    p.add_argument("--inference", choices=("process", "thread"), default="process",
                   help="process (default): the camera and tracking in one child process, a frame ahead, and the "
                        "model in another, each new face's image generated at once while this process only draws "
                        "(with --record-video the camera stays here); thread: everything in this process")


def add_osc_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--osc-port", type=options.port_or_off, default=9000, help="OSC UDP port to listen on (default 9000; 0 = off)")
    p.add_argument("--osc-host", type=options.local_address, default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 listens on the LAN, an explicit choice)")
    p.add_argument("--osc-allow", action="append", default=[], metavar="IP", help="accept OSC only from these senders (repeatable)")
    p.add_argument("--osc-out", type=options.host_port, action="append", default=[], metavar="HOST:PORT",
                   help="send face features and state here (repeatable)")
    p.add_argument("--osc-reply-port", type=options.port, default=None, metavar="PORT",
                   help="answer commands on this port of the sender's host (default: the sender's own port)")
    p.add_argument("--no-oscquery", action="store_true",
                   help="do not serve the address space over HTTP (OSCQuery) nor advertise it by mDNS")
    p.add_argument("--oscquery-port", type=options.integer(1, 65535, what="a TCP port"), default=None, metavar="PORT",
                   help="OSCQuery HTTP (TCP) port on --osc-host (default: the OSC port's number; any free one if taken)")


def add_rig_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--midi-in", default=None, metavar="NAME",
                   help="read this MIDI input (part of its name; `perform midi --list`): notes, CCs, bend, program "
                        "changes as mapping sources and scene triggers, its clock as the tempo; L in the window learns")
    p.add_argument("--midi-out", default=None, metavar="NAME",
                   help="send face features as CCs and scene changes as program changes to this MIDI output")
    p.add_argument("--link", action="store_true",
                   help="follow an Ableton Link session's tempo and beat (needs the optional `link` extra: aalink)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_setlist_argument(p)
    add_source_arguments(p)
    add_model_arguments(p)
    add_osc_arguments(p)
    add_rig_arguments(p)
    p.add_argument("--audio-in", default=None, metavar="DEVICE",
                   help="a sound card input for the audio.* mapping signals: a name (or part of one), an index, or "
                        "'default'; an unknown name lists the inputs; a device that fails is silence, never fatal")
    add_output_arguments(p)
    p.add_argument("--headless", action="store_true", help="no window: render offscreen through EGL")
    p.add_argument("--frames", type=options.integer(1, 2**31 - 1, what="a frame count"), default=None,
                   help="stop after N frames")
    p.add_argument("--inbetweens", choices=("auto", "on", "off"), default="auto",
                   help="images between camera frames when the scene moves on its own and they fit before the next "
                        "frame: smoother motion at the display's rate (auto: on with 4 or more CPU cores; on two they "
                        "slow tracking)")
    p.add_argument("--stall-s", type=options.number(0.0, above=True, what="seconds"), default=2.0, metavar="S",
                   help="inference watchdog: with no new image for a plan pending this long, the model's process "
                        "is restarted (the last image stays on screen; default 2)")
    p.add_argument("--size", type=parse_size, default=None, metavar="WxH", help="output size (default: the setlist's, 1280x720)")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (F toggles)")
    p.add_argument("--display", type=int, default=0, help="display index for the window")
    p.add_argument("--no-vsync", action="store_true", help="do not wait for vertical sync")
    p.add_argument("--fps", type=options.fps_or_unpaced, default=None, help="frame pacing without vsync (headless default 60; 0 = unpaced)")
    p.add_argument("--no-hud", action="store_true", help="start with the HUD hidden (H toggles)")
    p.add_argument("--record", default=None, metavar="DIR", help="record the run's inputs to a session folder")
    p.add_argument("--record-video", action="store_true", help="with --record: keep the camera video too")
    add_stats_argument(p)
    p.add_argument("--status-file", default=None, metavar="FILE",
                   help="keep a small JSON health report here (frames, generated images, errors), rewritten "
                        "a few times a second (perform soak reads it)")
    p.add_argument("--stall-file", default=None, metavar="FILE",
                   help="with --source synthetic: the camera delivers nothing while FILE exists (a stalled camera, "
                        "for perform soak)")


def run(args: argparse.Namespace) -> int:
    if args.record:
        # start-up: the recorder brings PyAV and OpenCV, which `perform --help` must not load
        from perform.session.recorder import check_session_dir

        # before the show, as `perform record` does: a folder holding an earlier take would be overwritten
        check_session_dir(args.record, overwrite=getattr(args, "overwrite", False))
    # start-up: `perform --help` imports every command module; torch only when this runs
    from perform.engine.live_show import LiveConfig, run_live

    return run_live(LiveConfig.from_args(args))
