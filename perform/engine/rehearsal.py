"""`perform rehearse`: a setlist on the fixed clock, from a recording, a video or the synthetic camera."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perform.audio.signals import FileAudioSignals, maps_audio
from perform.control.events import ControlEvent
from perform.engine.face_input import TrackedFaceInput
from perform.engine.fixed_clock import EventTimeline, FixedOptions, run_fixed, run_preview
from perform.engine.inference_process import InferenceProcess
from perform.engine.presenter import ChainPresenter
from perform.engine.reload import SetlistReloader
from perform.engine.show import build_models, build_show, load_setlist_or_default, models_to_load, set_torch_threads
from perform.engine.stages import FaceInput, Program
from perform.engine.stop import StopRequest, stop_on_signals
from perform.engine.timing import TimingStats
from perform.errors import PerformError
from perform.outputs.hub import OutputHub
from perform.outputs.options import OutputOptions, make_sinks
from perform.render.context import create_headless_context, load_llvm_users_first
from perform.render.video_out import VideoFileOutput
from perform.session.reader import load_session
from perform.setlist.schema import INPUT_SYNTHETIC, Setlist
from perform.setlist.watcher import SetlistWatcher
from perform.sources.synthetic import SyntheticSource
from perform.sources.video import VideoFileSource

log = logging.getLogger(__name__)


@dataclass
class RehearseConfig:
    setlist: str | None = None
    session: str | None = None
    video: str | None = None
    synthetic: bool = False
    out: str | None = None
    audio: str | None = None
    preview: bool = False
    t_from: float = 0.0
    t_to: float | None = None
    fps: float | None = None
    size: tuple[int, int] | None = None
    model: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    torch_threads: int | None = None
    crf: int = 18
    x264_preset: str = "superfast"  # at a constant quality (crf), a faster preset costs file size, not looks
    x264_threads: int = 0          # 0: x264's own choice
    hashes: str | None = None      # write one sha256 per frame here (determinism checks)
    inference: str = "process"     # the model in a child process, overlapping the drawing (or "thread": inline)
    stall_s: float = 10.0          # a frame unanswered this long: the child is killed, restarted, the frames redone
    stats_json: str | None = None
    progress: bool = True
    outputs: OutputOptions = OutputOptions()  # video out, with --preview

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "RehearseConfig":
        return cls(setlist=a.setlist, session=a.session, video=a.video, synthetic=a.synthetic, out=a.out,
                   audio=a.audio, preview=a.preview, t_from=a.t_from, t_to=a.t_to, fps=a.fps, size=a.size,
                   model=a.model, device=a.device, torch_threads=a.torch_threads,
                   precision=getattr(a, "precision", "fp32"), crf=a.crf, x264_preset=a.x264_preset,
                   x264_threads=getattr(a, "x264_threads", 0),
                   hashes=a.hashes,
                   stats_json=a.stats_json, progress=not a.no_progress, inference=a.inference,
                   stall_s=getattr(a, "stall_s", 10.0),
                   outputs=OutputOptions.from_args(a))


def _input_for(cfg: RehearseConfig, setlist: Setlist):
    """(session folder, video, synthetic) chosen by the options, else by the setlist's input."""
    chosen = [x for x in (cfg.session, cfg.video, cfg.synthetic or None) if x]
    if len(chosen) > 1:
        raise PerformError("give at most one input: --session, --video or --synthetic")
    session, video, synthetic = cfg.session, cfg.video, cfg.synthetic
    if not chosen:  # the setlist's default input
        if setlist.show.input == INPUT_SYNTHETIC or setlist.show.input_path is None:
            synthetic = True
        elif (setlist.show.input_path / "manifest.json").exists() or setlist.show.input_path.is_dir():
            session = str(setlist.show.input_path)
        else:
            video = str(setlist.show.input_path)
    return session, video, synthetic


def _refuse_overwriting_inputs(out: str | None, others: dict[str, str | None]) -> None:
    """--out must not name a file the render reads (or another output): it would be destroyed unannounced."""
    if not out:
        return
    target = Path(out).expanduser().resolve()
    for option, other in others.items():
        if other and Path(other).expanduser().resolve() == target:
            raise PerformError(f"--out {out} is also {option} {other}: rendering would overwrite it; "
                               "choose another output file")


def require_face(src, name: str, samples: int = 12) -> None:
    """Refuse a video in which no face can be found in frames sampled across it (before rendering anything)."""
    from perform.tracking.tracker import create_face_mesh, detect_landmarks  # after load_llvm_users_first(): MediaPipe may load the GL driver

    duration = getattr(src, "duration_s", None) or 10.0
    mesh = create_face_mesh(static=True)
    try:
        for i in range(samples):
            t = duration * (i + 0.5) / samples
            frame = src.frame_at(t, int(t * getattr(src, "fps", 30.0)))
            if frame is not None and detect_landmarks(mesh, frame.image) is not None:
                return
    finally:
        mesh.close()
    raise PerformError(f"video {name}: no face found in {samples} frames sampled across its {duration:.1f} s; "
                       "use a video with a face in it, or --synthetic")


def render_end_s(t_to: float | None, show_s: float | None, input_s: float | None,
                 session: bool) -> tuple[float, str | None]:
    """Where a rehearsal ends, and a note when the input and the setlist disagree on the length.

    --to wins. A recorded session renders its own length, as performed: a show can run past its setlist
    (the last scene held, scenes moved on by hand), and the recording is what happened. Otherwise the
    setlist's length, or the input's when the setlist holds somewhere (20 s when neither has one).
    """
    if t_to is not None:
        return t_to, None
    if session and input_s:
        note = None
        if show_s is not None and abs(show_s - input_s) >= 0.01:
            held = " (past the setlist's end its last scene holds, as it did live)" if input_s > show_s else ""
            note = (f"note: the session is {input_s:.1f} s long and the setlist {show_s:.1f} s: rendering the "
                    f"session's {input_s:.1f} s{held}; --to {show_s:g} renders the setlist's length")
        return input_s, note
    if show_s is None and input_s:
        return input_s, None
    return show_s or input_s or 20.0, None


def run_rehearse(cfg: RehearseConfig, stop: StopRequest | None = None) -> int:
    """Render (or preview) the show. SIGINT / SIGTERM / SIGHUP stop it between two frames: --out then keeps
    its previous file (the partial render is deleted) and the exit status is 128 + the signal's number."""
    stop = stop or StopRequest()
    with stop_on_signals(stop):
        code = _run_rehearse(cfg, stop)
    if code is None:
        try:
            print(f"perform rehearse: stopped by {stop.signal_name or 'request'}"
                  + (f"; {cfg.out} was not written (a file already there is kept)" if cfg.out else ""),
                  file=sys.stderr)
        except OSError:  # a hung-up terminal
            pass
        return stop.exit_code if stop.signum is not None else 1
    return code


@dataclass
class Rehearsal:
    """A rehearsal assembled before its clock runs: the show, its input, and the frames [start, end) to render."""

    setlist: Setlist
    models: dict
    conductor: Program
    face_input: FaceInput  # the caller closes it
    timeline: EventTimeline
    start: int
    end: int
    what: str  # the input, in words
    audio: FileAudioSignals | None = None  # the audio.* mappings' signals; the caller closes it
    audio_path: str | None = None  # what they are read from and --out carries: --audio, or the session's sound


def assemble(cfg: RehearseConfig) -> Rehearsal:
    """Load the setlist, its models and the input named by `cfg`, and build the conductor (no GL context yet)."""
    from perform.tracking.tracker import FaceTracker  # after load_llvm_users_first(): MediaPipe may load the GL driver

    # before anything loads a GL driver: MediaPipe's tracker does (under X11 that is Mesa's llvmpipe, with its own
    # LLVM), and triton loaded after it crashes the process (the --preview window used to, at its first frame)
    load_llvm_users_first()
    set_torch_threads(cfg.torch_threads)
    setlist = load_setlist_or_default(cfg.setlist, cfg.model, cfg.size, cfg.fps)
    fps = setlist.show.fps
    models = build_models(setlist, cfg.device, precision=cfg.precision)
    crop_size = next(iter(models.values())).resolution
    session_dir, video, synthetic = _input_for(cfg, setlist)
    _refuse_overwriting_inputs(cfg.out, {"--video": video, "--audio": cfg.audio, "--hashes": cfg.hashes,
                                         "--stats-json": cfg.stats_json})

    events: list[ControlEvent] = []
    length_s: float | None = None
    audio_path = cfg.audio
    if session_dir:
        session = load_session(session_dir)
        for repair in session.repairs:
            log.warning("session %s: %s", session_dir, repair)
        face_input = session.face_input(crop_size)
        events = session.events()
        length_s = session.duration_s
        what = f"session {session_dir}"
        if session.audio_path is not None:
            if cfg.audio:
                print(f"note: --audio {cfg.audio} is heard instead of the session's recorded sound")
            else:
                audio_path = str(session.audio_path)
                what += " with its recorded sound"
    elif video:
        src = VideoFileSource(video)
        require_face(src, video)
        face_input = TrackedFaceInput(src, FaceTracker(crop_size=crop_size))
        length_s = getattr(src, "duration_s", None)
        what = f"video {video}"
    else:
        face_input = TrackedFaceInput(SyntheticSource(fps=fps), FaceTracker(crop_size=crop_size))
        what = "synthetic camera"

    t_to, note = render_end_s(cfg.t_to, setlist.total_s(), length_s, bool(session_dir))
    if note:
        print(note)
    start = int(round(cfg.t_from * fps))
    end = int(round(t_to * fps))
    if end <= start:
        raise PerformError(f"nothing to render: --from {cfg.t_from} s is not before --to {t_to} s")

    timeline = EventTimeline(events)
    # the audio muxed into --out is the audio the mappings hear: audio.* signals from the same file, frame by frame
    audio = FileAudioSignals(audio_path) if audio_path else None
    conductor = build_show(setlist, models=models, control=timeline.control, audio=audio).conductor
    if audio is None and maps_audio(conductor.runtimes):
        print("note: the setlist maps audio.* signals and no --audio was given: they read silence")
    return Rehearsal(setlist, models, conductor, face_input, timeline, start, end, what, audio, audio_path)


def _run_rehearse(cfg: RehearseConfig, stop: StopRequest) -> int | None:
    """The exit status, or None for a render abandoned on a stop request."""
    if cfg.outputs and not cfg.preview:
        raise PerformError("video outputs (--out-stream, --out-ndi, ...) send the --preview window's frames: "
                           "add --preview (an offline render runs at its own speed, not the show's)")
    r = assemble(cfg)
    try:
        return _render(cfg, r, stop)
    finally:
        if r.audio is not None:
            r.audio.close()


def _render(cfg: RehearseConfig, r: Rehearsal, stop: StopRequest) -> int | None:
    setlist, models, conductor, face_input, timeline = r.setlist, r.models, r.conductor, r.face_input, r.timeline
    start, end, fps, what = r.start, r.end, r.setlist.show.fps, r.what
    if cfg.preview:
        return _preview(cfg, setlist, conductor, face_input, timeline, start, end, stop)
    stats = TimingStats(keep_all=True)
    hashes: list[str] = []
    frames_done = [0]
    ok = False
    with ExitStack() as opened:  # each closed even when another's close raises, the last opened first
        ctx = create_headless_context()
        opened.callback(ctx.release)
        opened.callback(face_input.close)
        presenter = ChainPresenter(ctx, setlist.show.size, conductor, hot_reload=False)
        opened.callback(presenter.close)
        writer = None
        if cfg.out:
            writer = VideoFileOutput(cfg.out, setlist.show.size, fps, audio_path=r.audio_path, crf=cfg.crf,
                                     preset=cfg.x264_preset, audio_offset_s=cfg.t_from, x264_threads=cfg.x264_threads,
                                     on_encoded=lambda ms: stats.add("encode", ms))
            opened.callback(lambda: writer.close() if ok else writer.abort())
        bar = None
        if cfg.progress:
            from tqdm import tqdm

            bar = tqdm(total=end - start, unit="frame", desc="rehearse", dynamic_ncols=True)
            opened.callback(bar.close)

        def on_frame(n: int, pixels: np.ndarray, plan) -> None:
            frames_done[0] += 1
            if writer is not None:
                writer.write(pixels)
            if cfg.hashes is not None:
                hashes.append(hashlib.sha256(pixels.tobytes()).hexdigest())

        def progress(n: int) -> None:
            if bar is not None and n >= start:
                bar.update(1)

        print(f"perform rehearse: {setlist.show.title!r} from {what}, frames {start}..{end - 1} at {fps:g} fps, "
              f"{setlist.show.size[0]}x{setlist.show.size[1]}" + (f" -> {cfg.out}" if cfg.out else ""))
        infer = None
        if cfg.inference == "process":
            infer = InferenceProcess(models, device=cfg.device, threads=1, stall_s=cfg.stall_s)
            opened.callback(infer.close)
        stats = run_fixed(conductor, presenter, face_input, timeline,
                          FixedOptions(fps=fps, start_frame=start, end_frame=end), on_frame=on_frame, progress=progress,
                          stats=stats, infer=infer, stop=stop)
        # a render stopped before its last frame is abandoned: never a short file under the final name (a stop
        # that comes after the last frame changes nothing: the file is finished)
        ok = frames_done[0] >= end - start
    if not ok:
        return None
    frame = stats.stats("frame", whole_run=True)
    print(stats.summary(title=f"perform rehearse: {end - start} frames"))
    if frame:
        print(f"  speed: {1000.0 / frame.mean_ms:.1f} frames/s = {1000.0 / frame.mean_ms / fps:.2f}x real time")
    if cfg.hashes is not None:
        Path(cfg.hashes).write_text("\n".join(hashes) + "\n")
    if cfg.stats_json:
        Path(cfg.stats_json).write_text(json.dumps(stats.as_dict(), indent=2))
    return 0


def _preview(cfg: RehearseConfig, setlist: Setlist, conductor, face_input, timeline, start: int, end: int,
             stop: StopRequest) -> int:
    """--preview: a window at real time, with hot reload of the setlist and the shaders."""
    from perform.render.window import Window  # pygame only where a window is wanted

    outputs = OutputHub(make_sinks(cfg.outputs, setlist.show.size, setlist.show.fps))
    window = Window(size=setlist.show.size, title=f"perform rehearse: {setlist.show.title}")
    presenter = ChainPresenter(window.ctx, setlist.show.size, conductor, window=window, hot_reload=True)
    presenter.capture = bool(outputs)
    reload = None
    if cfg.setlist:
        reload = SetlistReloader(SetlistWatcher(cfg.setlist, setlist), conductor, presenter,
                                 lambda sl, cache: build_models(sl, cfg.device, cache, cfg.precision),
                                 needs_loading=lambda sl, cache: bool(models_to_load(sl, cache, cfg.precision)))

    def between_frames(now: float) -> None:
        frame = presenter.take_frame()  # the frame drawn last, without the HUD
        if frame is not None:
            outputs.submit(frame)
        if reload is not None:
            reload(now)

    try:
        outputs.start()
        stats = run_preview(conductor, presenter, face_input, timeline,
                            FixedOptions(fps=setlist.show.fps, start_frame=start, end_frame=end), between_frames,
                            stop=stop)
    finally:
        outputs.close()
        presenter.close()
        face_input.close()
        window.close()
    print(stats.summary(title="perform rehearse --preview"))
    return 0
