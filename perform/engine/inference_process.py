"""The inference stage in a child process, for the live clock.

In one process, torch re-takes the GIL between every operator; with the render loop and MediaPipe busy
in the same interpreter, each hand-over can wait a whole switch interval, and a 24 ms decode took
60-110 ms (measured on 2 cores). A child process has its own GIL: the parent's infer thread only waits
on a pipe (which releases the GIL) while the child runs torch at full speed.

The pipe has one owner, the thread that calls submit/collect (the live clock's infer worker): two
threads reading one pipe interleave its messages ("unpickling stack underflow") and it never recovers.
Other threads only post (`add_models`), look (`pid`, `note`, `watchdog`) or end it (`close`), and never
wait on the child. Requests carry the jobs of a plan (latents, crops, mix, pair options); replies carry
the images. Chained (`chain=ChainSpec`, engine/chain.py), the child also opens the source and the tracker,
and `track()` asks it for the next camera frame tracked: the live clock plans it and asks for its image
at once. Models are rebuilt in the child from their specs (a checkpoint path, or an untrained
configuration and seed); nothing is pickled from a model file. The child's side is `inference_child`.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from typing import Any, Mapping

from perform.engine.chain import ChainSpec, ChildSource
from perform.engine.inference_child import serve
from perform.engine.plan import FramePlan, GenJob, Generated
from perform.errors import PerformError
from perform.tracking.observation import FaceObservation

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # importing torch and loading models in a fresh interpreter
LOAD_TIMEOUT_S = 60.0    # loading the models a hot reload added
POLL_S = 0.05            # waits on the child are sliced this fine, to honour close() and the watchdog
AHEAD_WAIT_S = 0.05      # a frame asked for ahead: how long the child waits for one before it answers "none yet"
CLOSE_WAIT_S = 1.0       # close(): each of stop, terminate and kill gets this long
NOTE_HOLD_S = 3.0        # a restart stays on the HUD this long (it may take a tenth of a second: long enough to read)


def _process_context(chained: bool = False):
    """Where children come from: a fork server that has imported torch and the model code once (a restart
    then costs loading the model, not seconds of importing torch: a killed child's image returns sooner);
    spawn where there is no fork server (Windows). Either way the child starts from a clean, single-threaded
    process: no inherited threads, GL context or locks of the show's process."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    preload = ["perform.engine.fork_server", "perform.engine.inference_child", "perform.engine.plan",
               "perform.nets.model"]
    if chained:  # the tracker too (importing MediaPipe takes about a second), where the server is not yet running
        preload += ["perform.engine.chain", "perform.tracking.tracker", "mediapipe"]
    ctx.set_forkserver_preload(preload)
    return ctx


class InferenceStalled(RuntimeError):
    """The child did not answer in time; it has been killed (restart() starts a fresh one)."""


def model_spec(model: Any) -> tuple:
    """How the child rebuilds a model: ('path', card path) or ('untrained', config dict, seed)."""
    spec = getattr(model, "spec", None)
    if spec is None:
        raise PerformError(f"model {model.info.name}: no spec to rebuild it in the inference process")
    return spec


class InferenceProcess:
    """generate(plan) in a child process. One caller at a time (the live clock's infer worker).

    stall_s: the watchdog. A request unanswered this long (a frozen or wedged child) gets the child
      killed; the waiting call raises InferenceStalled and restart() brings a fresh one. None: no limit.
    """

    def __init__(self, models: Mapping[str, Any], device: str = "cpu", threads: int | None = 1,
                 stall_s: float | None = None, start_timeout_s: float = START_TIMEOUT_S,
                 chain: ChainSpec | None = None) -> None:
        self._device = device
        self._threads = threads
        self.stall_s = stall_s
        self._start_timeout_s = start_timeout_s
        self._specs = {k: model_spec(m) for k, m in models.items()}
        self.chain = chain
        self.source = ChildSource(chain.name) if chain is not None else None  # what the child reports of it
        self._pending: dict[str, tuple] = {}   # added by a hot reload, sent by the pipe's owner
        self._failed: dict[str, str] = {}      # models the child could not load (not retried every frame)
        self._lock = threading.Lock()          # guards _pending, _failed and the watchdog's kill
        self._io = threading.Lock()            # held by whoever is using the pipe
        self._sent: deque[tuple[float, float]] = deque()  # (sent at, limit s) of each unanswered request
        self._asked = False  # a 'face' request is out, asked ahead (track(ahead=True))
        self._closing = False
        self._dead = True
        self._killed_at: float | None = None
        self.restarts = 0
        self.note = ""  # for the HUD: why the image is held, while it is, and a restart for NOTE_HOLD_S after
        self._note_until = 0.0
        self.proc: Any = None
        self._conn: Any = None
        with self._io:
            self._start()

    # -- the child's life ----------------------------------------------------------------------------
    def _start(self) -> None:
        ctx = _process_context(self.chain is not None)
        self._conn, child = ctx.Pipe()
        self._sent.clear()
        self._asked = False
        self.proc = ctx.Process(target=serve, args=(child, dict(self._specs), self._device, self._threads, self.chain),
                                name="perform-infer", daemon=True)
        self.proc.start()
        child.close()
        self._killed_at = None
        self._dead = False
        self._sent.append((time.perf_counter(), self._start_timeout_s))  # awaiting 'ready', watched as a request
        try:
            kind, detail = self._wait_reply("start")
        except InferenceStalled:
            self._end_child()
            raise PerformError(f"the inference process did not start within {self._start_timeout_s:.0f} s") from None
        except BaseException:  # it died, or close() began: leave no child behind
            self._end_child()
            raise
        if kind == "chain_error":
            self._end_child()
            raise PerformError(f"the inference process could not open the source or the tracker: {detail}")
        if kind != "ready":
            self._end_child()
            raise PerformError(f"the inference process could not load the models: {detail}")

    @property
    def running(self) -> bool:
        """The child is up and answering (False once it died, or the watchdog killed it, until restart())."""
        return not self._dead

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for tools that fault or watch it), else None."""
        proc = self.proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def restart(self) -> None:
        """After the child died, stalled or cannot be used (the worker's recovery hook): a fresh one with
        the same models. Nothing happens once close() has begun, or while the child is healthy (an error
        it reported, such as a bad latent, leaves it running)."""
        with self._io:
            if self._closing or not self._dead:
                return
            log.warning("restarting the inference process (the last one ended with exit code %s); "
                        "the last image stays on screen meanwhile", self.proc.exitcode if self.proc else None)
            why = "stalled" if self._killed_at is not None else "ended"
            self.note = f"inference process {why}: restarting it (image held)"
            self._end_child()
            t0 = time.perf_counter()
            self._start()
            self.restarts += 1
            took_s = time.perf_counter() - t0
            self.note = f"inference process {why}: restarted in {took_s:.1f} s"
            self._note_until = time.perf_counter() + NOTE_HOLD_S
            log.warning("inference process restarted in %.1f s (pid %s)", took_s, self.proc.pid)

    def _end_child(self) -> None:
        """Kill and reap the child, close our end of the pipe (caller holds _io)."""
        self._dead = True
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()  # SIGKILL: ends a stopped (SIGSTOP) child too
            self.proc.join(CLOSE_WAIT_S)
        if self._conn is not None:
            self._conn.close()
        self._sent.clear()

    def begin_close(self) -> None:
        """Shutdown has begun: no more restarts, and a wait on the child gives up at once. Any thread."""
        self._closing = True

    def close(self) -> None:
        """End the child: ask it to stop, then terminate, then kill, each with a timeout. Never hangs, even on
        a frozen child or while another thread is waiting on it. Any thread."""
        self._closing = True
        have_pipe = self._io.acquire(timeout=0.25)  # the owner gives it up within POLL_S once _closing is set
        proc = self.proc  # read after the owner let go: a restart in progress has finished or given up
        if proc is None:
            if have_pipe:
                self._io.release()
            return
        try:
            if have_pipe and self._asked and not self._dead and proc.is_alive():
                try:  # a frame asked for ahead: its answer comes within the wait, then the child can stop
                    if self._conn.poll(CLOSE_WAIT_S):
                        self._conn.recv()
                        self._sent.popleft()
                        self._asked = False
                except (EOFError, OSError, IndexError):
                    pass
            if have_pipe and not self._dead and not self._sent and proc.is_alive():
                try:  # all requests answered, so the child has read everything: this small send cannot block
                    self._conn.send(("stop",))
                except (OSError, ValueError):
                    pass
                proc.join(CLOSE_WAIT_S)
        finally:
            if have_pipe:
                self._io.release()
        if proc.is_alive():
            proc.terminate()
            proc.join(CLOSE_WAIT_S)
        if proc.is_alive():  # a stopped process does not act on SIGTERM until continued; SIGKILL it
            proc.kill()
            proc.join(CLOSE_WAIT_S)
        if proc.is_alive():
            log.error("the inference process (pid %s) did not end", proc.pid)
        self._dead = True
        if self._io.acquire(timeout=CLOSE_WAIT_S):  # the owner sees the pipe close once the child is gone
            try:
                if self._conn is not None:
                    self._conn.close()
            finally:
                self._io.release()

    # -- watchdog --------------------------------------------------------------------------------------
    def watchdog(self, now_s: float | None = None) -> float:
        """Kill the child if its oldest request is older than its limit (stall_s for images). Cheap; any
        thread: the live clock's main thread calls it every frame (it catches a send blocked on a frozen
        child), and every wait on the child calls it. Returns how long the oldest request has waited."""
        sent = self._sent
        try:
            t_sent, limit_s = sent[0]
        except IndexError:
            return 0.0
        now_s = time.perf_counter() if now_s is None else now_s
        age_s = now_s - t_sent
        if limit_s is not None and age_s > limit_s and not self._answered_ahead():
            with self._lock:
                if self._killed_at is None and not self._closing:
                    self._killed_at = now_s
                    self.note = f"inference stalled {age_s:.1f} s: restarting its process (image held)"
                    pid = self.proc.pid
                    log.warning("inference process (pid %s) stalled: no answer for %.1f s (limit %.1f s); "
                                "killing and restarting it; the last image stays on screen", pid, age_s, limit_s)
                    try:
                        os.kill(pid, signal.SIGKILL)  # not yet reaped, so the pid is still our child's
                    except (ProcessLookupError, TypeError):
                        pass
        return age_s

    def _answered_ahead(self) -> bool:
        """A frame asked for ahead was answered and waits to be read (its reader was busy generating, or
        restarting the other child): not a stall. Looks at the pipe without reading it (any thread)."""
        if not self._asked:
            return False
        try:
            return bool(self._conn.poll(0))
        except (OSError, ValueError, EOFError):
            return False

    # -- the pipe (its owner only) -------------------------------------------------------------------
    def _send(self, msg: tuple, limit_s: float | None) -> None:
        if self._dead:
            raise RuntimeError("the inference process is not running (restarting)")
        self._sent.append((time.perf_counter(), limit_s))
        try:
            self._conn.send(msg)
        except (OSError, ValueError) as exc:  # broken pipe: the child is gone
            raise self._died() from exc

    def _wait_reply(self, what: str) -> tuple[str, Any]:
        """The next reply; gives up when the watchdog kills the child, or at once when closing."""
        while True:
            try:
                if self._conn.poll(POLL_S):
                    reply = self._conn.recv()
                    self._sent.popleft()
                    return reply
            except (EOFError, OSError) as exc:
                raise self._died() from exc
            if self._closing:
                self._dead = True
                raise RuntimeError(f"the inference process is closing ({what} abandoned)")
            self.watchdog()
            if self._killed_at is not None:
                self._dead = True
                raise InferenceStalled(f"the inference process stalled ({what}); it was killed")

    def _reply_within(self, wait_s: float) -> bool:
        """A reply is there, or comes within wait_s (the pipe's owner; without reading it)."""
        try:
            return bool(self._conn.poll(wait_s))
        except (EOFError, OSError) as exc:
            raise self._died() from exc

    def _died(self) -> RuntimeError:
        self._dead = True
        if self._killed_at is not None:
            return InferenceStalled("the inference process stalled; it was killed")
        self.proc.join(0.5)
        return RuntimeError(f"the inference process ended unexpectedly (exit code {self.proc.exitcode})")

    # -- models ----------------------------------------------------------------------------------------
    def add_models(self, models: Mapping[str, Any]) -> None:
        """Models a hot reload added or built anew (a changed blend declaration: another spec under the same
        key); those already there are kept. Never blocks: the pipe's owner sends them to the child before
        its next plan, and plans using them wait for them there."""
        with self._lock:
            for key, model in models.items():
                spec = model_spec(model)
                if self._specs.get(key) != spec and self._pending.get(key) != spec:
                    self._pending[key] = spec
                    self._failed.pop(key, None)

    def _load_pending(self) -> None:
        with self._lock:
            new, self._pending = self._pending, {}
        if not new:
            return
        try:
            self._send(("load", new), LOAD_TIMEOUT_S)
            kind, detail = self._wait_reply("loading models")
        except BaseException:
            with self._lock:  # the restarted child gets them
                self._pending = new | self._pending
            raise
        errors = detail if kind == "loaded" else {k: str(detail) for k in new}
        for key, spec in new.items():
            if errors.get(key) is None:
                self._specs[key] = spec
            else:
                with self._lock:
                    self._failed[key] = errors[key]
                log.error("the inference process could not load model %s: %s", key, errors[key])

    # -- tracking, chained (the pipe's owner) ------------------------------------------------------
    @property
    def chained(self) -> bool:
        return self.chain is not None

    def track(self, wait_s: float, ahead: bool = False) -> FaceObservation | None:
        """The next camera frame tracked in the child (waiting at most wait_s for one), a blank frame tracked
        while none comes, or None; `source.status` follows the child's source. Watched like a plan: a child
        that does not answer within its wait + stall_s is killed. ahead: ask for the next frame before
        returning this one (a child that only tracks then tracks it while the caller plans and generates);
        the child waits AHEAD_WAIT_S for it whatever wait_s is, and a caller that looks sooner leaves the
        question asked: a frame that comes while the caller is busy is tracked at once all the same."""
        ask_s = max(wait_s, AHEAD_WAIT_S) if ahead else wait_s
        limit_s = None if self.stall_s is None else ask_s + self.stall_s
        with self._io:
            if not self._asked:
                self._send(("face", ask_s), limit_s)
                self._asked = ahead
            if ahead and not self._reply_within(wait_s):
                return None  # still asked: the answer is read by the next call
            self._asked = False
            kind, detail = self._wait_reply("tracking")
            if ahead and kind == "face":
                self._send(("face", ask_s), limit_s)
                self._asked = True
        if kind != "face":
            raise RuntimeError(f"inference process (tracking): {detail}")
        obs, self.source.status = detail
        return obs

    # -- generating (the pipe's owner) ---------------------------------------------------------------
    def generate(self, plan: FramePlan) -> Generated:
        self.submit(plan)
        return self.collect(plan)

    def submit(self, plan: FramePlan) -> None:
        """Send a plan's jobs without waiting; results come back in the order submitted (`collect`)."""
        with self._io:
            self._load_pending()
            for j in plan.jobs:
                if j.model_key in self._failed:
                    raise PerformError(f"model {j.model_key} could not be loaded in the inference process: "
                                       f"{self._failed[j.model_key]}")
            self._send(("jobs", [GenJob(j.model_key, j.latent, j.crop, j.mix, j.pair, j.net) for j in plan.jobs]),
                       self.stall_s)

    def collect(self, plan: FramePlan) -> Generated:
        """The images of the oldest plan submitted and not yet collected (which must be `plan`)."""
        with self._io:
            kind, detail = self._wait_reply("generating")
        if kind != "images":
            raise RuntimeError(f"inference process: {detail}")
        images, infer_ms = detail
        if self.note and time.perf_counter() >= self._note_until:
            self.note = ""
        return Generated(plan, images, infer_ms, time.perf_counter())


class ChainedInference:
    """The chained live pipeline in two children (the default of `perform live`): one opens the source and
    tracks, a frame ahead (frame n+1 is tracked while n is planned and generated), the other generates.

    One child doing both waited for each plan between tracking and generating, so a cycle outgrew the
    camera's 33 ms on a busy machine; two threads in one child make torch and MediaPipe wait on each other's
    GIL (docs/performance.md). The live clock's chain thread owns both pipes; each child has its own
    watchdog and restart, so a killed model comes back without reopening the camera, and the other way round.
    """

    chained = True

    def __init__(self, models: Mapping[str, Any], device: str = "cpu", threads: int | None = 1,
                 stall_s: float | None = None, start_timeout_s: float = START_TIMEOUT_S, *,
                 chain: ChainSpec) -> None:
        self.camera = InferenceProcess({}, device="cpu", threads=1, stall_s=stall_s, chain=chain,
                                       start_timeout_s=start_timeout_s)
        try:
            self.model = InferenceProcess(models, device=device, threads=threads, stall_s=stall_s,
                                          start_timeout_s=start_timeout_s)
        except BaseException:
            self.camera.close()
            raise
        self.source = self.camera.source
        self.stall_s = stall_s

    def track(self, wait_s: float) -> FaceObservation | None:
        return self.camera.track(wait_s, ahead=True)

    def generate(self, plan: FramePlan) -> Generated:
        return self.model.generate(plan)

    def add_models(self, models: Mapping[str, Any]) -> None:
        self.model.add_models(models)

    def restart(self) -> None:
        """Whichever child died or stalled comes back (a healthy one is left alone)."""
        self.camera.restart()
        self.model.restart()

    def watchdog(self, now_s: float | None = None) -> float:
        return max(self.camera.watchdog(now_s), self.model.watchdog(now_s))

    def begin_close(self) -> None:
        self.camera.begin_close()
        self.model.begin_close()

    def close(self) -> None:
        self.camera.close()
        self.model.close()

    @property
    def note(self) -> str:
        return self.model.note or self.camera.note

    @property
    def pid(self) -> int | None:
        """The model's child (the status file's infer_pid; `camera.pid` is the other)."""
        return self.model.pid

    @property
    def proc(self) -> Any:
        return self.model.proc

    @property
    def restarts(self) -> int:
        return self.camera.restarts + self.model.restarts
