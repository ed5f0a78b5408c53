"""`perform live`: build the source, tracker, models, conductor, OSC and presenter, and run the live clock."""

from __future__ import annotations

import argparse
import json
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from perform.audio.live import LiveAudioSignals, open_live_input
from perform.audio.signals import maps_audio
from perform.control.osc_out import OSCSender
from perform.control.osc_routes import ENGINE_ANSWERED
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.chain import ChainSpec, NullTracker
from perform.engine.conductor import shader_param_names
from perform.engine.inbetweens import wanted as want_inbetweens
from perform.engine.inference_process import ChainedInference, InferenceProcess
from perform.engine.live_clock import LiveOptions, LiveRunner
from perform.engine.oscquery_show import open_oscquery, show_facts
from perform.engine.midi_rig import MidiRig
from perform.engine.presenter import ChainPresenter
from perform.engine.reload import SetlistReloader
from perform.engine.show import build_models, build_show, models_to_load, set_torch_threads
from perform.engine.status import LiveStatus
from perform.engine.stop import StopRequest, stop_on_signals
from perform.engine.timing import TimingStats
from perform.errors import ErrorReporter, PerformError
from perform.outputs.hub import OutputHub
from perform.outputs.options import OutputOptions, make_sinks
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
    osc_out: list[tuple[str, int]] = field(default_factory=list)  # (host, port): commands.options.host_port
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
    inbetweens: str = "auto"  # engine/inbetweens.py: auto, on, off
    status_file: str | None = None  # LiveStatus JSON, rewritten a few times a second (for a soak or a monitor)
    stall_file: str | None = None  # synthetic source: no frames while this file exists (a stalled camera)
    stall_s: float = 2.0  # the inference watchdog: a plan pending this long restarts the child
    oscquery: bool = True  # the OSC address space over HTTP + mDNS, whenever the OSC server is on
    oscquery_port: int | None = None  # TCP; default the OSC port's number
    midi_in: str | None = None   # part of a MIDI input port's name (engine/midi_rig.py)
    midi_out: str | None = None  # part of a MIDI output port's name
    link: bool = False           # Ableton Link as a tempo source (the optional `link` extra)
    audio_in: str | None = None  # a sound card input for the audio.* signals (name, index or "default")
    outputs: OutputOptions = field(default_factory=OutputOptions)  # video out beside the window

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
                   inbetweens=getattr(a, "inbetweens", "auto"),
                   status_file=getattr(a, "status_file", None), stall_file=getattr(a, "stall_file", None),
                   stall_s=getattr(a, "stall_s", 2.0), oscquery=not getattr(a, "no_oscquery", False),
                   oscquery_port=getattr(a, "oscquery_port", None), midi_in=getattr(a, "midi_in", None),
                   midi_out=getattr(a, "midi_out", None), link=getattr(a, "link", False),
                   audio_in=getattr(a, "audio_in", None), outputs=OutputOptions.from_args(a))


def run_live(cfg: LiveConfig, stop: StopRequest | None = None) -> int:
    """Run the show until --frames, the quit keys, or SIGINT / SIGTERM / SIGHUP: each ends the same way
    (files finished, summary printed, --stats-json written) and returns 0."""
    stop = stop or StopRequest()
    with stop_on_signals(stop):  # first thing: a signal during start-up must not kill a half-open recording
        # one torch thread by default on a CPU: MediaPipe and the GL renderer need the other core, and
        # oversubscribed OpenMP threads spin-wait each other into stalls
        threads = cfg.torch_threads or (1 if cfg.device in ("auto", "cpu") else None)
        set_torch_threads(threads)
        control = ControlState()
        with ExitStack() as opened:  # each closed even when another's close raises, the last opened first
            # bound before the slow setup: a port another program holds is the user's to fix, said at once
            server = open_osc_server(cfg, control)
            if server is not None:
                opened.callback(server.close)
            rig = MidiRig.open(control, midi_in=cfg.midi_in, midi_out=cfg.midi_out, link=cfg.link,
                               setlist_path=cfg.setlist)
            opened.callback(rig.close)
            audio = open_live_input(cfg.audio_in) if cfg.audio_in else None  # an unknown name fails here, listing the inputs
            if audio is not None:
                opened.callback(audio.close)
            return _run_live(cfg, threads, control, server, stop, rig, audio)


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


def _run_live(cfg: LiveConfig, threads: int | None, control: ControlState, server: OSCServer | None,
              stop: StopRequest, rig: MidiRig, audio: LiveAudioSignals | None = None) -> int:
    from perform.tracking.tracker import FaceTracker  # after load_llvm_users_first(): MediaPipe may load the GL driver

    # before anything loads a GL driver: MediaPipe's tracker may (under X11, Mesa's llvmpipe with its own LLVM),
    # and triton loaded after it crashes the process
    load_llvm_users_first()
    sender = OSCSender(cfg.osc_out) if cfg.osc_out else None
    on_scene = ([sender.send_scene] if sender is not None else []) + rig.on_scene()
    show = build_show(cfg.setlist, model=cfg.model, size=cfg.size, device=cfg.device, precision=cfg.precision,
                      control=control, reply=server.reply if server is not None else None, on_scene=on_scene,
                      audio=audio)
    setlist, models, conductor = show.setlist, show.models, show.conductor
    rig.start(setlist.show.tempo_bpm)
    if audio is None and maps_audio(conductor.runtimes):
        log.warning("the setlist maps audio.* signals and no --audio-in was given: they read silence")
    crop_size = next(iter(models.values())).resolution
    out_size = setlist.show.size
    reporter = ErrorReporter(log)
    stats = TimingStats(keep_all=True)
    # a missing package (or the wrong OS) for an output fails here, before a window opens
    outputs = OutputHub(make_sinks(cfg.outputs, out_size, cfg.fps or 60.0), reporter)

    if parse_spec(cfg.source)[0] != "synthetic" and cfg.stall_file:
        raise PerformError("--stall-file works with --source synthetic only")
    # chained (the default): the inference child opens the source and tracks, unless the camera's frames are
    # recorded (a recording's faces come from the chain thread); the factories are picklable (a fork server)
    chained = cfg.inference == "process" and not (cfg.record and cfg.record_video)
    open_it = partial(open_source, cfg.source, size=cfg.capture_size, fps=cfg.capture_fps, stall_file=cfg.stall_file)
    tracker_factory = partial(FaceTracker, crop_size=crop_size) if cfg.track else NullTracker
    source = None if chained else open_it()

    query = None
    if server is not None:
        declare_controls(server.router, conductor)
        server.start()
        where = "on the LAN" if cfg.osc_host not in ("127.0.0.1", "localhost", "::1") else "on this machine only"
        print(f"OSC: listening on udp {cfg.osc_host}:{server.port} ({where})")
        if cfg.oscquery:
            query = open_oscquery(conductor, control, cfg.osc_host, server.port, cfg.oscquery_port or server.port)
            if query is not None:
                print(f"OSCQuery: http://{cfg.osc_host}:{query.port}/ (mDNS _oscjson._tcp)")

    recorder = None
    program = conductor
    if cfg.record:
        recorder = SessionRecorder(cfg.record, fps=cfg.capture_fps, setlist=cfg.setlist or "",
                                   model=next(iter(models.values())).info.name, source=cfg.source,
                                   record_video=cfg.record_video, record_audio=audio is not None, crop_size=crop_size)
        if audio is not None:  # the sound the audio.* mappings hear, so that a rehearsal hears it too
            audio.record_to(recorder.add_audio)
    if cfg.headless:
        ctx = create_headless_context()
        window = None
    else:
        from perform.render.window import Window  # pygame only where a window is wanted

        window = Window(size=out_size, fullscreen=cfg.fullscreen, display=cfg.display, vsync=cfg.vsync, title="perform")
        ctx = window.ctx
    presenter = ChainPresenter(ctx, out_size, conductor, window=window)
    fps = cfg.fps if cfg.fps is not None else (60.0 if cfg.headless or not cfg.vsync else 0.0)
    presenter.capture = bool(outputs)

    status = None

    def on_frame(n, plan, generated):
        frame = presenter.take_frame() if outputs else None
        if frame is not None:
            outputs.submit(frame)  # latest wins on each output's own thread: never waits here
        if status is not None:
            status.update(n + 1)
        face, _ = runner.faces.peek()
        if sender is not None:
            if face is not None:
                sender.send_face(face.features, face.present)
            sender.send_fps(time.perf_counter(), runner.stats.fps())
        rig.on_frame(plan, face)

    on_face = None
    if recorder is not None:
        tapped, program, on_frame_hook = tap_live(recorder, tracker_factory, conductor, on_frame)
        if chained:
            on_face = recorder.add_face
        else:
            tracker_factory = tapped
    else:
        on_frame_hook = on_frame
    program = rig.wrap(program)
    extra_hud = [rig.hud_lines]
    if server is not None:
        c = server.counters
        extra_hud.append(lambda: [f"osc :{server.port}  ok {c.get('accepted')}  dropped {c.total_dropped()}"])
    if audio is not None:
        extra_hud.append(audio.hud_lines)
    if outputs:
        extra_hud.append(outputs.hud_lines)
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
                                 server.router if server is not None else None, query,
                                 needs_loading=lambda sl, cache: bool(models_to_load(sl, cache, cfg.precision)))
        hooks.append(reloader)
    runner = LiveRunner(source, tracker_factory, program, presenter, control,
                        LiveOptions(fps=fps, frames=cfg.frames, on_frame=on_frame_hook, on_face=on_face, hud=cfg.hud,
                                    between_frames=hooks, extra_hud=extra_hud, infer=infer, stall_s=cfg.stall_s,
                                    stop=stop, inbetweens=want_inbetweens(cfg.inbetweens)),
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
        outputs.start()
        runner.run()
    finally:
        if query is not None:
            query.close()
        outputs.close()
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
    if outputs:
        lines.append(f"  outputs: {outputs.summary()}")
    try:
        print("\n".join(lines), flush=True)
    except OSError:  # a hung-up terminal: the show still ended well
        pass
    return 0


def make_reloader(path: str, setlist, conductor, presenter, reload_models, router=None, query=None,
                  needs_loading=None):
    """Hot reload of the setlist between frames; the OSC routes and the OSCQuery tree follow each swap (a pass
    a reload adds is reachable at once, one it removes is refused). needs_loading(setlist, cache): the edit's
    models are built off the render thread."""
    def on_swap() -> None:
        if router is not None:
            declare_controls(router, conductor)
        if query is not None:
            query.set_facts(show_facts(conductor))
    return SetlistReloader(SetlistWatcher(path, setlist), conductor, presenter, reload_models, on_swap=on_swap,
                           needs_loading=needs_loading)


def declare_controls(router, conductor) -> None:
    """Tell the OSC router what exists (latent size, directions, shader parameters, mapping inputs, the scenes'
    advance.osc triggers), so wildcards reach them and unknown names are refused and counted."""
    models = conductor.models.values()
    directions = set().union(*(m.directions for m in models))
    inputs = set().union(*(getattr(rt.mapper, "input_names", ()) for rt in conductor.runtimes))
    net = set().union(*(m.net_params() for m in models if hasattr(m, "net_params")))  # bends, blends, trajectories
    cues = {a for scene in conductor.setlist.scenes for a in scene.advance.osc}  # /cue/drop: not under /perform/
    router.declare(latent_dim=max(m.latent_dim for m in models), directions=directions,
                   shader_params=shader_param_names(conductor.setlist), inputs=inputs, net_params=net, cues=cues)
