"""`perform live`: build the source, tracker, models, conductor, OSC and presenter, and run the live clock."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from perform.control.osc_out import OSCSender
from perform.control.osc_routes import ENGINE_ANSWERED
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.chain import ChainSpec, NullTracker
from perform.engine.conductor import shader_param_names
from perform.engine.inference_process import ChainedInference, InferenceProcess
from perform.engine.live_clock import LiveOptions, LiveRunner
from perform.engine.presenter import ChainPresenter
from perform.engine.reload import SetlistReloader
from perform.engine.show import build_models, build_show, set_torch_threads
from perform.engine.status import LiveStatus
from perform.engine.stop import StopRequest, stop_on_signals
from perform.engine.timing import TimingStats
from perform.errors import ErrorReporter, PerformError
from perform.render.context import create_headless_context, load_llvm_users_first
from perform.session import SessionRecorder, tap_live
from perform.setlist.watcher import SetlistWatcher
from perform.sources.factory import open_source, parse_spec

log = logging.getLogger(__name__)


@dataclass
class LiveConfig:
    setlist: str | None = None
    source: str = "camera:0"
    capture_size: tuple[int, int] = (1280, 720)
    capture_fps: float = 30.0
    track: bool = True
    model: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    torch_threads: int | None = None
    osc_port: int = 9000
    osc_host: str = "127.0.0.1"
    osc_allow: list[str] = field(default_factory=list)
    osc_out: list[str] = field(default_factory=list)
    osc_reply_port: int | None = None
    headless: bool = False
    frames: int | None = None
    size: tuple[int, int] | None = None
    fullscreen: bool = False
    display: int = 0
    vsync: bool = True
    fps: float | None = None
    hud: bool = True
    record: str | None = None
    record_video: bool = False
    stats_json: str | None = None
    inference: str = "process"
    status_file: str | None = None  # LiveStatus JSON, rewritten a few times a second (for a soak or a monitor)
    stall_file: str | None = None  # synthetic source: no frames while this file exists (a stalled camera)
    stall_s: float = 2.0  # the inference watchdog: a plan pending this long restarts the child

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "LiveConfig":
        source = a.source or (f"camera:{a.camera}" if a.camera is not None else "camera:0")
        return cls(setlist=a.setlist, source=source, capture_size=a.capture_size, capture_fps=a.capture_fps,
                   track=not a.no_track, model=a.model, device=a.device, torch_threads=a.torch_threads,
                   precision=getattr(a, "precision", "fp32"), osc_port=a.osc_port, osc_host=a.osc_host, osc_allow=a.osc_allow, osc_out=a.osc_out,
                   osc_reply_port=a.osc_reply_port,
                   headless=a.headless, frames=a.frames, size=a.size, fullscreen=a.fullscreen, display=a.display,
                   vsync=not a.no_vsync, fps=a.fps, hud=not a.no_hud, record=a.record, record_video=a.record_video,
                   stats_json=a.stats_json, inference=getattr(a, "inference", "process"),
                   status_file=getattr(a, "status_file", None), stall_file=getattr(a, "stall_file", None),
                   stall_s=getattr(a, "stall_s", 2.0))


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise PerformError(f"--osc-out {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9001")
    return host or "127.0.0.1", int(port)


def run_live(cfg: LiveConfig, stop: StopRequest | None = None) -> int:
    """Run the show until --frames, the quit keys, or SIGINT / SIGTERM / SIGHUP: each ends the same way
    (files finished, summary printed, --stats-json written) and returns 0."""
    stop = stop or StopRequest()
    with stop_on_signals(stop):  # first thing: a signal during start-up must not kill a half-open recording
        # one torch thread by default on a CPU: MediaPipe and the GL renderer need the other core, and
        # oversubscribed OpenMP threads spin-wait each other into stalls
        threads = cfg.torch_threads or (1 if cfg.device in ("auto", "cpu") else None)
        set_torch_threads(threads)
        osc_targets = [parse_host_port(t) for t in cfg.osc_out]  # bad options fail before anything starts
        control = ControlState()
        # bound before the slow setup: a port another program holds is the user's to fix, said at once
        server = open_osc_server(cfg, control)
        try:
            return _run_live(cfg, threads, osc_targets, control, server, stop)
        finally:
            if server is not None:
                server.close()


def open_osc_server(cfg: LiveConfig, control: ControlState) -> OSCServer | None:
    """The OSC server bound (not yet receiving), or None with --osc-port 0; PerformError saying what to do."""
    from perform.commands.options import osc_bind_problem  # the commands import this module: a top-level import would be a circle

    if not cfg.osc_port:
        return None
    try:
        return OSCServer(control, host=cfg.osc_host, port=cfg.osc_port, allow=cfg.osc_allow or None,
                         reply_port=cfg.osc_reply_port, engine_answers=ENGINE_ANSWERED)
    except OSError as e:
        raise PerformError(osc_bind_problem(e, cfg.osc_host, cfg.osc_port)) from None
    except ValueError as e:  # a bad --osc-allow network
        raise PerformError(f"--osc-allow: {e}") from None


def _run_live(cfg: LiveConfig, threads: int | None, osc_targets: list[tuple[str, int]], control: ControlState,
              server: OSCServer | None, stop: StopRequest) -> int:
    from perform.tracking.tracker import FaceTracker  # after load_llvm_users_first(): MediaPipe may load the GL driver

    # before anything loads a GL driver: MediaPipe's tracker may (under X11, Mesa's llvmpipe with its own LLVM),
    # and triton loaded after it crashes the process
    load_llvm_users_first()
    show = build_show(cfg.setlist, model=cfg.model, size=cfg.size, device=cfg.device, precision=cfg.precision,
                      control=control, reply=server.reply if server is not None else None)
    setlist, models, conductor = show.setlist, show.models, show.conductor
    crop_size = next(iter(models.values())).resolution
    out_size = setlist.show.size
    reporter = ErrorReporter(log)
    stats = TimingStats(keep_all=True)

    if parse_spec(cfg.source)[0] != "synthetic" and cfg.stall_file:
        raise PerformError("--stall-file works with --source synthetic only")
    # chained (the default): the inference child opens the source and tracks, unless the camera's frames are
    # recorded (a recording's faces come from the chain thread); the factories are picklable (a fork server)
    chained = cfg.inference == "process" and not (cfg.record and cfg.record_video)
    open_it = partial(open_source, cfg.source, size=cfg.capture_size, fps=cfg.capture_fps, stall_file=cfg.stall_file)
    tracker_factory = partial(FaceTracker, crop_size=crop_size) if cfg.track else NullTracker
    source = None if chained else open_it()

    if server is not None:
        declare_controls(server.router, conductor)
        server.start()
        where = "on the LAN" if cfg.osc_host not in ("127.0.0.1", "localhost", "::1") else "on this machine only"
        print(f"OSC: listening on udp {cfg.osc_host}:{server.port} ({where})")

    sender = None
    if cfg.osc_out:
        sender = OSCSender(osc_targets)
        conductor.listeners.append(
            lambda kind, value: sender.send_scene(conductor.setlist.index_of(value) or 0, value) if kind == "scene" else None)
    recorder = None
    program = conductor
    if cfg.record:
        recorder = SessionRecorder(cfg.record, fps=cfg.capture_fps, setlist=cfg.setlist or "",
                                   model=next(iter(models.values())).info.name, source=cfg.source,
                                   record_video=cfg.record_video, crop_size=crop_size)
    if cfg.headless:
        ctx = create_headless_context()
        window = None
    else:
        from perform.render.window import Window  # pygame only where a window is wanted

        window = Window(size=out_size, fullscreen=cfg.fullscreen, display=cfg.display, vsync=cfg.vsync, title="perform")
        ctx = window.ctx
    presenter = ChainPresenter(ctx, out_size, conductor, window=window)
    fps = cfg.fps if cfg.fps is not None else (60.0 if cfg.headless or not cfg.vsync else 0.0)

    status = None

    def on_frame(n, plan, generated):
        if status is not None:
            status.update(n + 1)
        face, _ = runner.faces.peek()
        if sender is not None:
            if face is not None:
                sender.send_face(face.features, face.present)
            sender.send_fps(time.perf_counter(), runner.stats.fps())

    on_face = None
    if recorder is not None:
        tapped, program, on_frame_hook = tap_live(recorder, tracker_factory, conductor, on_frame)
        if chained:
            on_face = recorder.add_face
        else:
            tracker_factory = tapped
    else:
        on_frame_hook = on_frame
    extra_hud = []
    if server is not None:
        c = server.counters
        extra_hud.append(lambda: [f"osc :{server.port}  ok {c.get('accepted')}  dropped {c.total_dropped()}"])
    infer = None
    if cfg.inference == "process":
        if chained:
            infer = ChainedInference(models, device=cfg.device, threads=threads, stall_s=cfg.stall_s,
                                     chain=ChainSpec(open_it, tracker_factory, name=cfg.source))
            source = infer.source
        else:
            infer = InferenceProcess(models, device=cfg.device, threads=threads, stall_s=cfg.stall_s)

    def reload_models(sl, cache):
        new = build_models(sl, cfg.device, cache, cfg.precision)
        if infer is not None:
            infer.add_models(new)  # posted to the infer worker, which owns the pipe; never waits here
        return new

    hooks = []
    reloader = None
    if cfg.setlist:
        reloader = make_reloader(cfg.setlist, setlist, conductor, presenter, reload_models,
                                 server.router if server is not None else None)
        hooks.append(reloader)
    runner = LiveRunner(source, tracker_factory, program, presenter, control,
                        LiveOptions(fps=fps, frames=cfg.frames, on_frame=on_frame_hook, on_face=on_face, hud=cfg.hud,
                                    between_frames=hooks, extra_hud=extra_hud, infer=infer, stall_s=cfg.stall_s,
                                    stop=stop),
                        stats, reporter)
    if cfg.status_file:
        status = LiveStatus(cfg.status_file, runner, conductor, presenter, fps or 60.0, infer=infer,
                            reloader=reloader, osc=server.counters if server is not None else None)
    if models and next(iter(models.values())).info.untrained:
        log.warning("running an UNTRAINED model (random weights): train one with `perform train`")
    print(f"perform live: {setlist.show.title!r}, {len(setlist.scenes)} scene(s), source {source.name}, "
          f"output {out_size[0]}x{out_size[1]}{' headless' if cfg.headless else ''}; Esc twice or Ctrl-C to quit",
          flush=True)
    try:
        runner.run()
    finally:
        if sender is not None:
            sender.close()
        if recorder is not None:
            recorder.close()
        presenter.close()
        if infer is not None:
            infer.close()
        if window is not None:
            window.close()
    # the file first: after SIGHUP the terminal may be gone, and printing to it can fail
    if cfg.stats_json:
        Path(cfg.stats_json).write_text(json.dumps(stats.as_dict(), indent=2))
    why = f" (stopped by {stop.signal_name})" if stop.signal_name else ""
    lines = [stats.summary(title=f"perform live: {runner.frames_drawn} frames{why}")]
    if server is not None:
        lines.append(f"  osc: {server.counters.summary()}")
    if recorder is not None:
        lines.append(f"  recording: {recorder.status.line()} -> {cfg.record}")
    try:
        print("\n".join(lines), flush=True)
    except OSError:  # a hung-up terminal: the show still ended well
        pass
    return 0


def make_reloader(path: str, setlist, conductor, presenter, reload_models, router=None):
    """Hot reload of the setlist between frames; the OSC routes follow each swap (a pass a reload adds is
    reachable at once, one it removes is refused)."""
    on_swap = (lambda: declare_controls(router, conductor)) if router is not None else None
    return SetlistReloader(SetlistWatcher(path, setlist), conductor, presenter, reload_models, on_swap=on_swap)


def declare_controls(router, conductor) -> None:
    """Tell the OSC router what exists (latent size, directions, shader parameters, mapping inputs), so
    wildcards reach them and unknown names are refused and counted."""
    models = conductor.models.values()
    directions = set().union(*(m.directions for m in models))
    inputs = set().union(*(getattr(rt.mapper, "input_names", ()) for rt in conductor.runtimes))
    router.declare(latent_dim=max(m.latent_dim for m in models), directions=directions,
                   shader_params=shader_param_names(conductor.setlist), inputs=inputs)
