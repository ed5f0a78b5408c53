"""The live clock: capture, tracking and inference off the main thread, the render loop on it.

Hand-over through latest-value mailboxes: nothing queues, so latency cannot grow. Latency first: each new
face is planned at once and its image generated right after, so a camera frame reaches the generator
without waiting for a render tick, and the generator runs once per camera frame, not once per tick.

Chained (the default: ChainedInference, or an InferenceProcess made with a ChainSpec; engine/chain.py), one
*chain* thread takes the next camera frame tracked in a child (capture and MediaPipe run there, away from
this process's GIL), plans it with the control events due, and asks the model's child for its image.
Otherwise a *track* thread tracks in this process and posts plans to an *infer* thread.

The render loop plans every tick for drawing (shader parameters, fades), but posts its plan to inference
only when controls changed or no face has come for a while; it never waits on inference and draws the
newest image it has.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from perform.control.events import ControlEvent
from perform.engine.inbetweens import InBetweens
from perform.engine.phase_lock import PhaseLock
from perform.engine.plan import FramePlan, GenJob, Generated, generate
from perform.engine.stages import NO_FRAME_INDEX, EventSource, Presenter, Program, Tracker, no_face
from perform.engine.stop import StopRequest
from perform.engine.timing import TimingStats
from perform.engine.worker import Worker, sleep_until
from perform.errors import ErrorReporter
from perform.mailbox import Mailbox
from perform.sources.frame import Source
from perform.tracking.observation import FaceObservation

log = logging.getLogger(__name__)

HUD_REFRESH_S = 0.25


@dataclass
class LiveOptions:
    fps: float = 60.0            # pacing when the presenter has no vsync (headless); 0 = unpaced
    frames: int | None = None    # stop after this many frames
    idle_emit_s: float = 1 / 30  # how often an absent observation is emitted while no frame arrives
    source_timeout_s: float = 0.25
    on_frame: Callable[[int, FramePlan, Generated | None], None] | None = None  # e.g. a recorder, OSC out
    on_face: Callable[[FaceObservation], None] | None = None  # chained: each observation as it comes (a recorder)
    between_frames: list[Callable[[float], None]] = field(default_factory=list)  # main thread, e.g. hot reload
    extra_hud: list[Callable[[], list[str]]] = field(default_factory=list)  # more HUD lines (OSC counts, ...)
    infer: Any = None  # an InferenceProcess (generate, restart, watchdog, begin_close, note); None: in this process
    stall_s: float = 2.0  # a plan pending longer than this is a stall: HUD note, log (and the process restarted)
    hud: bool = True
    stop: StopRequest | None = None  # a signal (engine/stop.py) ends the loop at the next frame, like --frames
    # the render loop posts its own plan to inference when none went for this long: about 1.5 frames of a
    # 30 fps camera, so a lost camera (whose reads wait out source_timeout_s) still animates at ~20 images/s
    plan_idle_s: float = 0.05
    # paced (no vsync): ticks move to just after the images arrive (engine/phase_lock.py)
    phase_lock: bool = True
    # chained: images between camera frames when they fit before the next one (engine/inbetweens.py)
    inbetweens: bool = True
    # Python's GIL switch interval while the show runs (None: leave it). A thread woken by a pipe (a tracked
    # face, an image back from the child) waits for the render loop to let go of the GIL, by default up to
    # 5 ms each time; 1 ms cuts that hand-over, twice per camera frame
    switch_interval_s: float | None = 0.001


@dataclass
class LiveState:
    """What the keys change during a show (owned by the render loop)."""

    hud: bool = True
    freeze: bool = False
    quit_armed_at: float = -math.inf
    quit: bool = False
    events: list[ControlEvent] = field(default_factory=list)


class LiveRunner:
    """Runs a Program live. Call run() on the main thread (every GL call happens there)."""

    def __init__(self, source: Source, tracker_factory: Callable[[], Tracker], program: Program,
                 presenter: Presenter, control: EventSource | None = None, options: LiveOptions | None = None,
                 stats: TimingStats | None = None, reporter: ErrorReporter | None = None) -> None:
        self.opt = options or LiveOptions()
        # chained: the inference child reads the source and tracks; here is its stand-in (name, status)
        self.chained = bool(getattr(self.opt.infer, "chained", False))
        self.source = self.opt.infer.source if self.chained else source
        self.program = program
        self.presenter = presenter
        self.control = control
        self.stats = stats or TimingStats(keep_all=True)
        self.reporter = reporter or ErrorReporter(log)
        self._tracker_factory = tracker_factory
        self._tracker: Tracker | None = None
        self.faces: Mailbox[FaceObservation] = Mailbox()
        self.plans: Mailbox[FramePlan] = Mailbox()
        self.results: Mailbox[Generated] = Mailbox()
        self._plan_seen = 0
        self._last_frame_t = time.perf_counter()
        self.state = LiveState(hud=self.opt.hud)
        self.workers: list[Worker] = []
        self.frames_drawn = 0
        self._hud_cache: list[str] = []
        self._hud_next_s = -math.inf
        self._infer_since: float | None = None  # when the infer worker took up its current plan (it sets it)
        self._stall_logged = False
        # the program (conductor) has one owner at a time: whoever holds this lock (the tracking thread
        # planning a new face, the render loop planning a tick, or a between-frames hook reloading it)
        self._program_lock = threading.Lock()
        self._plan_t = -math.inf  # the program's clock never runs backwards, whichever thread steps it
        self._face_plan_t = -math.inf  # when the chain thread last planned (no frame since plan_idle_s: plan again)
        self._inbetweens = InBetweens(1.0 / (self.opt.fps or 60.0)) if self.opt.inbetweens else None
        self._hold = threading.Event()  # set by the render loop while frozen (Space): no plan goes to inference
        self._last_jobs: tuple[GenJob, ...] = ()  # what the infer worker generated last (it owns these two)
        self._last_models: tuple[int, ...] = ()

    # -- workers -------------------------------------------------------------------------------------
    def _track_step(self) -> None:
        if self._tracker is None:
            self._tracker = self._tracker_factory()
        frame = self.source.read(self.opt.source_timeout_s)
        now = time.perf_counter()
        if frame is None:
            # no frame: let the face fade out gracefully (the tracker decays presence on its own clock)
            if now - self._last_frame_t >= self.opt.idle_emit_s:
                obs = no_face(self._tracker, now)
                self.faces.put(obs)
                self._post_plan(obs)
                self._last_frame_t = now
            return
        self._last_frame_t = now
        self.stats.add("capture", max(0.0, (now - frame.t_capture_s) * 1000.0))
        obs = self._tracker.process(frame)
        self.stats.add("track", obs.track_ms)
        self.faces.put(obs)
        self._post_plan(obs)

    def _plan(self, face: FaceObservation | None, events: list[ControlEvent], index: int,
              drain: bool = False) -> tuple[FramePlan, list[ControlEvent]]:
        """One program step, by whichever thread holds the program; its time is taken inside the lock, so
        the program's clock is monotonic across threads. drain: the control events due by then come too
        (drained inside the lock, so events reach the program in order whichever thread drains them)."""
        with self._program_lock:
            t = max(time.perf_counter(), self._plan_t)
            self._plan_t = t
            if drain and self.control is not None:
                due = self.control.drain(t)
                events = due + events if events else due
            return self.program.step(t, index, face, events, self.source.status), events

    def _post_plan(self, face: FaceObservation) -> None:
        """A new face goes to inference at once (tracking thread): no render tick in between."""
        try:
            plan, _ = self._plan(face, [], self.frames_drawn)
        except Exception as exc:  # the render loop reports it too, and keeps the last image
            self.reporter.report("conductor", exc)
            return
        if not (self._hold.is_set() or plan.freeze):
            self.plans.put(plan)

    def _reset_tracker(self, exc: BaseException) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.close()

    def _infer_step(self) -> None:
        plan, version = self.plans.get(self._plan_seen, timeout_s=0.1)
        if plan is None or version == self._plan_seen:
            return
        self._plan_seen = version
        self._generate(plan)

    def _chain_step(self) -> None:
        """Chained: the next camera frame, tracked in the inference child, planned here with the control
        events due, and its image generated at once. Nothing in between waits for a render tick. When no
        frame comes for plan_idle_s (camera lost, a slow camera), the newest face is planned again, so
        transitions, drift and controls still move the image; between two frames, an in-between image when
        it fits (engine/inbetweens.py). The render loop posts nothing (its plans would queue behind the
        camera's here, and slow tracking down on a busy machine)."""
        due = self._inbetweens.due(self._face_plan_t) if self._inbetweens is not None else None
        wait = self.opt.plan_idle_s if due is None else min(self.opt.plan_idle_s, due - time.perf_counter())
        try:
            obs = self.opt.infer.track(max(0.0, wait))
        except Exception:
            if self._ending_with_the_show():
                return
            raise
        if obs is None:
            now = time.perf_counter()
            if now - self._face_plan_t >= self.opt.plan_idle_s or (due is not None and now >= due):
                self._chain_plan(self.faces.peek()[0])
            return
        now = time.perf_counter()
        camera = obs.frame_index != NO_FRAME_INDEX
        if camera:
            if self._inbetweens is not None:
                self._inbetweens.frame(obs.t_capture_s, now)
            self.stats.add("track", obs.track_ms)
            # from the frame's stamp to here, less the tracking: waiting for the child, and the hand-over
            self.stats.add("capture", max(0.0, (now - obs.t_capture_s) * 1000.0 - obs.track_ms))
        self.faces.put(obs)
        if self.opt.on_face is not None:
            try:
                self.opt.on_face(obs)
            except Exception as exc:
                self.reporter.report("face hook", exc)
        self._chain_plan(obs, camera)

    def _chain_plan(self, face: FaceObservation | None, fresh: bool = False) -> None:
        """Plan a face with the control events due, and generate its images (chain thread). fresh: a camera
        frame's face, just tracked (its stages are timed from the frame's stamp)."""
        try:
            plan, _ = self._plan(face, [], self.frames_drawn, drain=True)
        except Exception as exc:  # the render loop reports it too, and keeps the last image
            self.reporter.report("conductor", exc)
            return
        self._face_plan_t = plan.t_s
        if fresh:
            self.stats.add("face_to_plan", (time.perf_counter() - face.t_capture_s) * 1000.0)
        if self._hold.is_set() or plan.freeze:
            return
        t0 = time.perf_counter()
        if self._generate(plan):
            t1 = time.perf_counter()
            if self._inbetweens is not None:
                self._inbetweens.generated(t1 - t0)
            if fresh:
                self.stats.add("face_to_image", (t1 - face.t_capture_s) * 1000.0)

    def _generate(self, plan: FramePlan) -> bool:
        """The images of a plan, into the results mailbox, unless they are the images made last (False)."""
        # a hot reload may bring a new model under the same key: its identity is part of the inputs
        models = tuple(id(self.program.models.get(j.model_key)) for j in plan.jobs)
        if models == self._last_models and _same_jobs(plan.jobs, self._last_jobs):
            return False  # the newest image is already this one: never generate the same inputs twice
        self._infer_since = time.perf_counter()
        try:
            if self.opt.infer is None:
                result = generate(plan, self.program.models)
            else:
                try:
                    result = self.opt.infer.generate(plan)
                except Exception:
                    if self._ending_with_the_show():
                        return False
                    raise
        finally:
            self._infer_since = None
        self._last_jobs, self._last_models = plan.jobs, models
        self.stats.add("infer", result.infer_ms)
        self.results.put(result)
        return True

    def warm_up(self) -> None:
        """Before the clock starts: build the tracker (importing MediaPipe takes seconds) and run each model
        once (first inferences are slow), so the show does not open on a stall."""
        if self._tracker is None and not self.chained:  # chained, the inference child built it
            self._tracker = self._tracker_factory()
        if self.opt.infer is None:
            for model in self.program.models.values():
                model.generate(np.zeros(model.latent_dim, np.float32))

    def start_workers(self) -> None:
        self.warm_up()
        if self.chained:
            self.workers = [Worker("chain", self._chain_step, self.reporter, on_error=self._restart_inference).start()]
            return
        self.workers = [
            Worker("track", self._track_step, self.reporter, on_error=self._reset_tracker).start(),
            Worker("infer", self._infer_step, self.reporter,
                   on_error=self._restart_inference if self.opt.infer is not None else None).start(),
        ]

    def _restart_inference(self, exc: BaseException) -> None:
        # a child that died because the show is ending (Ctrl-C reaches the whole process group) is not
        # restarted: starting one takes seconds and the show is over
        if not self.stopping:
            self.opt.infer.restart()

    def _ending_with_the_show(self, wait_s: float = 0.25) -> bool:
        """The inference child failed: is the show ending? Ctrl-C in a terminal (and systemd's SIGTERM) reaches
        the whole process group, so the child can die of it a moment before this process's handler runs; a
        failure followed within wait_s by a stop request is the end of the show, not an error to report."""
        if self.stopping:
            return True
        return self.opt.stop is not None and self.opt.stop.event.wait(wait_s)

    @property
    def stopping(self) -> bool:
        """The show is ending: quit keys, a stop signal, or the workers told to stop."""
        stop = self.opt.stop
        return self.state.quit or (stop is not None and stop.is_set()) or any(w.stopping for w in self.workers)

    def stop(self) -> None:
        for w in self.workers:
            w.stop()
        if self.opt.infer is not None:
            self.opt.infer.begin_close()  # no restart from here on, and a wait on the child gives up
        self.plans.close()
        self.faces.close()
        for w in self.workers:
            w.join()
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None
        self.source.close()

    # -- keys --------------------------------------------------------------------------------------
    def handle_key(self, key: str, now: float) -> None:
        """H: HUD; F: fullscreen; Space: freeze; Esc twice within a second: quit (a stray key must not end a show).
        Every other key becomes an event (/perform/key/<name>) for scene triggers."""
        key = key.lower().replace(" ", "")  # pygame says "page down"; scene triggers say "pagedown"
        if key == "escape":
            if now - self.state.quit_armed_at <= 1.0:
                self.state.quit = True
            else:
                self.state.quit_armed_at = now
                log.warning("press Esc again within a second to quit")
            return
        if key == "quit":  # window closed by the window manager: the performer meant it
            self.state.quit = True
        elif key == "h":
            self.state.hud = not self.state.hud
        elif key == "f":
            toggle = getattr(self.presenter, "toggle_fullscreen", None)
            if toggle is not None:
                toggle()
        elif key == "space":
            self.state.freeze = not self.state.freeze
        self.state.events.append(ControlEvent(now, f"/perform/key/{key}", (), "key"))

    # -- the render loop -----------------------------------------------------------------------------
    def run(self) -> TimingStats:
        interval = sys.getswitchinterval()
        if self.opt.switch_interval_s is not None:
            sys.setswitchinterval(self.opt.switch_interval_s)
        try:
            self.start_workers()
            try:
                self._loop()
            finally:
                self.stop()
        finally:
            sys.setswitchinterval(interval)
        return self.stats

    def _loop(self) -> None:
        period = 1.0 / self.opt.fps if self.opt.fps and self.opt.fps > 0 else 0.0
        lock = PhaseLock(period) if period and self.opt.phase_lock else None
        t_next = time.perf_counter()
        t_prev = None
        result_seen = 0
        latest: Generated | None = None
        shown_capture = math.nan  # the camera frame behind the newest image drawn (in-betweens share it)
        n = 0
        stop = self.opt.stop
        while not (self.state.quit or (stop is not None and stop.is_set())) and \
                (self.opt.frames is None or n < self.opt.frames):
            t0 = time.perf_counter()
            if t_prev is not None:
                self.stats.add("frame", (t0 - t_prev) * 1000.0)
            t_prev = t0
            self._watch_inference(t0)
            if self.opt.between_frames:
                with self._program_lock:  # a hot reload swaps the program's state: nobody steps it meanwhile
                    for hook in self.opt.between_frames:
                        try:
                            hook(t0)
                        except Exception as exc:
                            self.reporter.report("between frames", exc)
            pressed, self.state.events = self.state.events, []
            if self.state.freeze:
                self._hold.set()
            else:
                self._hold.clear()
            face, _ = self.faces.peek()
            events = pressed
            try:
                plan, events = self._plan(face, pressed, n, drain=True)
            except Exception as exc:  # a broken program step must not stop the show: keep the last image
                self.reporter.report("conductor", exc)
                plan = None
            # chained, the chain thread plans with the events due and when no face comes (see _chain_step)
            if plan is not None and not (self.chained or self.state.freeze or plan.freeze) and \
                    (events or self._faces_idle(plan.t_s)):
                self.plans.put(plan)
            res, version = self.results.peek()
            fresh = version != result_seen
            new_face = False  # an image of a camera frame not shown before (not an in-between of one)
            if fresh:
                result_seen = version
                latest = res
                t_capture = res.plan.t_capture_s
                new_face = not math.isnan(t_capture) and t_capture != shown_capture
                if new_face:
                    shown_capture = t_capture
                    waited = time.perf_counter() - res.t_done_s
                    self.stats.add("image_wait", waited * 1000.0)
                    if lock is not None:  # locked to the camera's images: their latency is the one that counts
                        t_next += lock.correction(waited)
            draw_plan = plan if plan is not None else (latest.plan if latest is not None else None)
            if draw_plan is not None:
                try:
                    self.presenter.draw(draw_plan, latest, self._hud(face, draw_plan, t0) if self.state.hud else [])
                except Exception as exc:
                    self.reporter.report("render", exc)
            keys = self.presenter.present()
            t1 = time.perf_counter()
            self.stats.add("render", (t1 - t0) * 1000.0)
            if new_face:  # when a camera frame first reaches the screen
                self.stats.add("camera_to_screen", (t1 - shown_capture) * 1000.0)
            if self.opt.on_frame is not None:
                try:
                    self.opt.on_frame(n, draw_plan, latest)
                except Exception as exc:
                    self.reporter.report("frame hook", exc)
            for k in keys:
                self.handle_key(k, t1)
            n += 1
            self.frames_drawn = n
            if period:
                t_next += period
                if t_next < t1 - period:  # fell behind by more than a frame: do not try to catch up
                    t_next = t1
                sleep_until(t_next, stop.event if stop is not None else None)

    def _faces_idle(self, now_s: float) -> bool:
        """No plan has gone to inference for plan_idle_s (no face came: tracker starting, or broken): the render
        loop's plan goes instead, so transitions and controls still move the image."""
        newest, _ = self.plans.peek()
        return newest is None or now_s - newest.t_s >= self.opt.plan_idle_s

    def _watch_inference(self, now_s: float) -> None:
        """The watchdog on the image's age: a plan pending past stall_s is logged (once per stall) and shown
        on the HUD; a child process is killed and restarted (by its infer worker). Never waits."""
        since = self._infer_since
        stalled = since is not None and now_s - since > self.opt.stall_s
        if self.opt.infer is not None:
            try:
                self.opt.infer.watchdog(now_s)  # logs and kills; the infer worker then restarts it
            except Exception as exc:
                self.reporter.report("inference watchdog", exc)
        elif stalled and not self._stall_logged:
            log.warning("inference stalled: no image for %.1f s (limit %.1f s); the last image stays on screen",
                        now_s - since, self.opt.stall_s)
        self._stall_logged = stalled

    def _inference_note(self, now_s: float) -> str:
        note = getattr(self.opt.infer, "note", "") if self.opt.infer is not None else ""
        since = self._infer_since
        if not note and since is not None and now_s - since > self.opt.stall_s:
            note = f"inference stalled {now_s - since:.1f} s (image held)"
        return note

    def _hud(self, face: FaceObservation | None, plan: FramePlan, now_s: float) -> list[str]:
        """The HUD's lines, rebuilt at most HUD_REFRESH_S apart (the HUD redraws text no faster; the
        percentiles behind them are not worth computing every frame)."""
        if now_s >= self._hud_next_s:
            self._hud_cache = self._hud_lines(face, plan, now_s)
            self._hud_next_s = now_s + HUD_REFRESH_S
        return self._hud_cache

    def _hud_lines(self, face: FaceObservation | None, plan: FramePlan, now_s: float) -> list[str]:
        s = self.stats
        lines = []
        frame = s.stats("frame")
        if frame:
            lines.append(f"{1000.0 / max(frame.mean_ms, 1e-6):5.1f} fps  frame p50 {frame.p50_ms:5.1f}  p95 {frame.p95_ms:5.1f} ms")
        parts = []
        for stage in ("capture", "track", "infer", "render", "camera_to_screen"):
            st = s.stats(stage)
            if st:
                parts.append(f"{stage.replace('camera_to_screen', 'cam>screen')} {st.p50_ms:.1f}")
        if parts:
            lines.append("  ".join(parts) + " ms")
        present = face is not None and face.present
        src = self.source.status
        lines.append(f"face {'yes' if present else 'no'}  source {self.source.name}: {src}"
                     + ("  (drifting, retrying camera)" if src == "lost" else ""))
        lines.extend(getattr(self.program, "hud_lines", lambda: [])())
        for extra in self.opt.extra_hud:
            lines.extend(extra())
        if self.state.freeze:
            lines.append("FROZEN (Space)")
        if plan.status:
            lines.append(plan.status)
        note = self._inference_note(now_s)
        if note:
            lines.append(note)
        errors = self.reporter.total()
        if errors:
            lines.append(f"errors: {errors} (see log)")
        return lines


def _same_jobs(a: tuple[GenJob, ...], b: tuple[GenJob, ...]) -> bool:
    """Whether two plans ask for the same images (same model, latent, crop, mix, pair, network parameters)."""
    return len(a) == len(b) and len(a) > 0 and all(
        x.model_key == y.model_key and x.mix == y.mix and x.pair == y.pair and x.net == y.net
        and np.array_equal(x.latent, y.latent)
        and (x.crop is y.crop or (x.crop is not None and y.crop is not None and np.array_equal(x.crop, y.crop)))
        for x, y in zip(a, b))
