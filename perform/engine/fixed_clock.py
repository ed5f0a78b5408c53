"""The fixed clock: the same stages run one after another for frame n at time n/fps.

Same inputs, same output, bit for bit on the same machine, at whatever speed the machine manages.
No wall-clock read decides anything here; perf_counter only measures.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from perform.control.events import ControlEvent
from perform.control.state import ControlState
from perform.engine.plan import FramePlan, Generated, generate
from perform.engine.stages import FaceInput, Presenter, Program, ReadablePresenter
from perform.engine.stop import StopRequest
from perform.engine.timing import TimingStats
from perform.engine.worker import sleep_until

log = logging.getLogger(__name__)

# frames the pipelined loop keeps submitted to the inference child ahead of the one it draws: with two, a slow
# image (a crossfade's two jobs, a scheduler hiccup) is absorbed instead of stalling the drawing
IN_FLIGHT = 2
# a child that dies or stalls mid-render is restarted and the frames in flight generated again, this many times
# for one frame before the render gives up with the error
RESTARTS_PER_FRAME = 2


@dataclass
class FixedOptions:
    fps: float = 30.0
    start_frame: int = 0
    end_frame: int = 300   # exclusive


class EventTimeline:
    """Recorded control events played on the frame clock through a ControlState, so held values (inputs,
    keys, direct overrides) work exactly as live. `drain(t)` returns the events with t_s <= t, each once."""
    def __init__(self, events: Iterable[ControlEvent] = ()) -> None:
        self._events = sorted(events, key=lambda e: e.t_s)
        self._i = 0
        self._now = 0.0
        self.control = ControlState(clock=lambda: self._now)

    def drain(self, t_s: float) -> list[ControlEvent]:
        self._now = t_s
        while self._i < len(self._events) and self._events[self._i].t_s <= t_s:
            self.control.post(self._events[self._i], now_s=t_s)
            self._i += 1
        return self.control.drain(t_s)


def frame_time(index: int, fps: float) -> float:
    return index / fps


def step_frame(program: Program, face_input: FaceInput | None, events: EventTimeline, n: int, fps: float,
               stats: TimingStats | None = None) -> FramePlan:
    """Frame n's plan, the one step every fixed-clock loop takes: the face at t = n/fps, the events due by t
    (strictly after the previous frame's time and up to this one), the conductor's step. Frames before a
    render's start are stepped too, so the state there is the same as in a full render."""
    t = frame_time(n, fps)
    t0 = time.perf_counter()
    face = face_input.face_at(t, n) if face_input is not None else None
    if stats is not None:
        stats.add("track", (time.perf_counter() - t0) * 1000.0)
    status = face_input.status if face_input is not None else "ok"
    return program.step(t, n, face, events.drain(t), status)


def run_fixed(program: Program, presenter: ReadablePresenter, face_input: FaceInput | None,
              events: EventTimeline, opt: FixedOptions,
              on_frame: Callable[[int, np.ndarray, FramePlan], None] | None = None,
              stats: TimingStats | None = None, progress: Callable[[int], None] | None = None,
              infer=None, stop: StopRequest | None = None) -> TimingStats:
    """Render frames [start_frame, end_frame). Frames before start_frame are still stepped (not drawn), so
    the state at start_frame is the same as in a full render (scenes, smoothing, LFOs).

    With `infer` (an InferenceProcess) frames n and n-1 are generated in the child while frame n-2 is drawn
    here (and an earlier one encoded by a threaded writer): the same frames, in about the time of the slowest.
    A child that dies, or stalls past its watchdog, is restarted and the frames in flight generated again (the
    same frames). A `stop` request (a signal) ends the render before the next frame; the caller sees it set."""
    if infer is not None:
        return _run_fixed_pipelined(program, presenter, face_input, events, opt, on_frame,
                                    stats or TimingStats(keep_all=True), progress, infer, stop)
    stats = stats or TimingStats(keep_all=True)
    last: Generated | None = None
    for n in range(0, opt.end_frame):
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        plan = step_frame(program, face_input, events, n, opt.fps, stats)
        if n < opt.start_frame:
            continue
        if last is None or not plan.freeze:
            last = generate(plan, program.models)
        _show(presenter, n, plan, last, on_frame, stats)
        stats.add("infer", last.infer_ms if last.plan is plan else 0.0)
        stats.add("frame", (time.perf_counter() - t0) * 1000.0)
        if progress is not None:
            progress(n)
    return stats


def _show(presenter, n: int, plan: FramePlan, generated: Generated, on_frame, stats: TimingStats) -> None:
    """Draw frame n, read it back and hand it on (the video writer, a hash): the same in both loops. "render" is
    the drawing and the readback, "output" the hand-over (a threaded writer encodes later, on its own thread)."""
    t0 = time.perf_counter()
    presenter.draw(plan, generated, [])
    presenter.present()
    pixels = presenter.read_pixels()
    t1 = time.perf_counter()
    if on_frame is not None:
        on_frame(n, pixels, plan)
    stats.add("render", (t1 - t0) * 1000.0)
    stats.add("output", (time.perf_counter() - t1) * 1000.0)


def _run_fixed_pipelined(program, presenter, face_input, events, opt, on_frame, stats, progress, infer,
                         stop) -> TimingStats:
    pending: list[tuple[int, FramePlan, bool]] = []  # (frame, plan, submitted to the child)
    last: Generated | None = None
    done_at = [time.perf_counter()]

    def finish_oldest() -> None:
        nonlocal last
        n, plan, submitted = pending.pop(0)
        t0 = time.perf_counter()
        if submitted:
            last = _collect(infer, plan, [p for _, p, sub in pending if sub], stop)
            stats.add("infer", last.infer_ms)
        stats.add("wait_infer", (time.perf_counter() - t0) * 1000.0)
        _show(presenter, n, plan, last, on_frame, stats)
        t3 = time.perf_counter()
        stats.add("frame", (t3 - done_at[0]) * 1000.0)  # one frame finished every this often
        done_at[0] = t3
        if progress is not None:
            progress(n)

    for n in range(0, opt.end_frame):
        if stop is not None and stop.is_set():
            return stats  # what is in flight is not drawn: the render is abandoned
        plan = step_frame(program, face_input, events, n, opt.fps, stats)
        if n < opt.start_frame:
            continue
        submit = not (plan.freeze and (last is not None or any(p[2] for p in pending)))
        if submit:
            try:
                infer.submit(plan)
            except Exception as exc:  # the child is gone: a fresh one gets this plan and those in flight
                if infer.running or (stop is not None and stop.is_set()):
                    raise
                _restart(infer, [p for _, p, sub in pending if sub] + [plan], exc)
        pending.append((n, plan, submit))
        if len(pending) > IN_FLIGHT:  # IN_FLIGHT frames in the child while the oldest is drawn here
            finish_oldest()
    while pending and not (stop is not None and stop.is_set()):
        finish_oldest()
    return stats


def _collect(infer, plan: FramePlan, later: list[FramePlan], stop: StopRequest | None) -> Generated:
    """The oldest plan's images. A child that died or stalled (its watchdog killed it) is restarted and the
    plans in flight, this one and `later`, are generated again in order: the same plans give the same images,
    so the render stays frame-exact. An error the child reports for a plan (it keeps running) is raised."""
    for attempt in range(RESTARTS_PER_FRAME + 1):
        try:
            return infer.collect(plan)
        except Exception as exc:
            if infer.running or attempt == RESTARTS_PER_FRAME or (stop is not None and stop.is_set()):
                raise
            _restart(infer, [plan, *later], exc)
    raise AssertionError("unreachable")


def _restart(infer, in_flight: list[FramePlan], exc: BaseException) -> None:
    """A fresh child, given the plans that were in flight, in order."""
    log.warning("the inference process failed at frame %d (%s): restarting it and generating the %d frame(s) "
                "in flight again", in_flight[0].index, exc, len(in_flight))
    infer.restart()
    for p in in_flight:
        infer.submit(p)


def run_preview(program: Program, presenter: Presenter, face_input: FaceInput | None, events: EventTimeline,
                opt: FixedOptions, between_frames: Callable[[float], None] | None = None,
                stats: TimingStats | None = None, stop: StopRequest | None = None) -> TimingStats:
    """The fixed clock shown in a window at real time (rehearsal preview): frame n is due at start + n/fps,
    and a frame that is late is still drawn (nothing is skipped, so what you see is what renders).
    Esc twice within a second stops; Space pauses."""
    stats = stats or TimingStats(keep_all=True)
    last: Generated | None = None
    t_start = time.perf_counter()
    esc_at, paused_at, paused_s = -1e9, None, 0.0
    n = 0
    while n < opt.end_frame and not (stop is not None and stop.is_set()):
        now = time.perf_counter()
        if between_frames is not None:
            between_frames(now)
        if paused_at is None:
            plan = step_frame(program, face_input, events, n, opt.fps)
            if n >= opt.start_frame:
                last = generate(plan, program.models)
                hud = [f"preview {plan.t_s:6.2f} s  frame {n}  scene {plan.scene}"] + (
                    program.hud_lines() if hasattr(program, "hud_lines") else [])
                presenter.draw(plan, last, hud)
            n += 1
        keys = presenter.present()
        t1 = time.perf_counter()
        stats.add("frame", (t1 - now) * 1000.0)
        for k in keys:
            if k == "escape":
                if t1 - esc_at <= 1.0:
                    return stats
                esc_at = t1
            elif k == "quit":
                return stats
            elif k == "space":
                if paused_at is None:
                    paused_at = t1
                else:
                    paused_s += t1 - paused_at
                    paused_at = None
        if paused_at is None and n > opt.start_frame:
            sleep_until(t_start + paused_s + (n - opt.start_frame) / opt.fps, stop.event if stop else None)
        elif paused_at is not None:
            time.sleep(1.0 / opt.fps)
    return stats
