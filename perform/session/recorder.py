"""SessionRecorder: records a live run's inputs to a session folder without ever holding up the show.

The engine's threads hand items over through bounded queues (a full queue drops the item and counts it);
writer threads do every file operation. The first OSError (disk full, folder not writable) stops the
recording with one log message and a status the HUD shows; nothing is ever raised into the caller.

Every file is appended to and put on disk (flush + fsync) at least every FLUSH_INTERVAL_S, with the manifest
rewritten ("complete": false) each time: a process killed or a power cut loses at most the last second, and
the reader repairs the rest (format.py). close() packs the face track and marks the manifest complete.
"""

from __future__ import annotations

import collections
import datetime as _dt
import io
import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import av
import cv2
import numpy as np

from perform.control.events import ControlEvent
from perform.errors import ErrorReporter, PerformError
from perform.session import format as fmt
from perform.session.audio_track import AudioTrackWriter
from perform.render.video_out import VideoFileOutput
from perform.sources.frame import Frame
from perform.tracking.observation import FEATURE_NAMES, FaceObservation

log = logging.getLogger(__name__)

N_LANDMARKS = 478
CROPS_CRF = 14  # near-transparent at 64 px (mean error about 3/255, most of it 4:2:0 chroma); crops are tiny
FLUSH_INTERVAL_S = 0.5  # checked after each item and every 0.25 s idle: on disk within about 0.75 s
_STOP = object()
EARLY_AUDIO_S = 2.0  # sound kept from before the session's origin is known (a block before it is trimmed anyway)
_SESSION_FILES = {fmt.MANIFEST, fmt.FACES, fmt.CROPS, fmt.EVENTS, fmt.CAMERA, fmt.AUDIO, fmt.FACE_ROWS, fmt.LANDMARKS,
                  fmt.MANIFEST + ".tmp", fmt.FACES + ".tmp", ".landmarks.f16.partial"}
# OSError covers disk full and permissions; PyAV raises its own errors for the same causes
WRITE_ERRORS = (OSError, av.FFmpegError)


def check_session_dir(directory: str | os.PathLike, overwrite: bool = False) -> Path:
    """Before the show: fail loudly (PerformError) if a session cannot be recorded into `directory`.

    The recorder itself never raises during a show; this is the check that runs while a user can still fix it.
    """
    d = Path(directory)
    for parent in (d, *d.parents):
        if parent.exists():
            if not parent.is_dir():
                raise PerformError(f"cannot record to {d}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PerformError(f"cannot record to {d}: {parent} is not writable")
            break
    if d.is_dir():
        if (d / fmt.MANIFEST).exists() and not overwrite:
            raise PerformError(f"{d} already holds a recorded session: choose another folder, or replace it "
                               f"with `perform record {d} --overwrite`")
        foreign = [p.name for p in d.iterdir() if p.name not in _SESSION_FILES]
        if foreign:
            raise PerformError(f"{d} holds other files ({', '.join(sorted(foreign)[:3])}): record into an empty "
                               "or a new folder")
    return d


RecorderState = Literal["recording", "failed", "closed"]  # failed: stopped by a write error


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """Where a recording stands; `error` says why when the state is 'failed'."""

    state: RecorderState
    directory: str
    faces: int
    events: int
    camera_frames: int
    dropped: int
    duration_s: float
    error: str | None = None

    def line(self) -> str:
        """One line for the HUD."""
        if self.state == "failed":
            return f"REC STOPPED: {self.error}"
        drop = f"  dropped {self.dropped}" if self.dropped else ""
        label = "REC" if self.state == "recording" else "rec closed"
        return f"{label} {self.duration_s:6.1f} s  faces {self.faces}  events {self.events}{drop}"


class _Channel:
    """One writer thread fed by one bounded queue."""

    def __init__(self, name: str, maxsize: int, handle: Callable[[Any], None], tick: Callable[[], None]) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._handle, self._tick = handle, tick  # tick: after each item and when idle (the periodic flush)
        self.thread = threading.Thread(target=self._run, name=f"record-{name}", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                item = self.queue.get(timeout=0.25)
            except queue.Empty:
                self._tick()
                continue
            if item is _STOP:
                return
            self._handle(item)
            self._tick()


class _FlushTimer:
    """When a writer's files go to disk: at most every FLUSH_INTERVAL_S, and only after something was written."""

    def __init__(self) -> None:
        self.dirty = False
        self._at = time.monotonic()

    def due(self) -> bool:
        if not self.dirty or time.monotonic() - self._at < FLUSH_INTERVAL_S:
            return False
        self.dirty, self._at = False, time.monotonic()
        return True


class SessionRecorder:
    """Records faces, control events, scene changes and (optionally) camera frames and input sound to `directory`.

    add_face / add_event / add_events / add_frame / add_audio may be called from any thread and never block. Calling the
    recorder itself, recorder(index, plan, generated), matches LiveOptions.on_frame and records scene changes.
    close() finishes the files and writes manifest.json last; it never raises either, and returns the status.

    origin_s: the time (on the callers' clock) that becomes t = 0; by default the first time recorded.
    """

    def __init__(self, directory: str | os.PathLike, fps: float = 30.0, setlist: str = "", model: str = "",
                 source: str = "", record_video: bool = False, record_audio: bool = False, crop_size: int = 64,
                 origin_s: float | None = None, queue_size: int = 1024, video_queue_size: int = 8,
                 audio_queue_size: int = 2048,
                 reporter: ErrorReporter | None = None) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if crop_size < 2 or crop_size % 2:
            raise ValueError(f"crop_size must be even and >= 2 (H.264 4:2:0), got {crop_size}")
        self.directory = Path(directory)
        self.fps, self.crop_size, self.record_video, self.record_audio = float(fps), int(crop_size), record_video, record_audio
        self._meta = {"setlist": str(setlist or ""), "model": str(model or ""), "source": str(source or "")}
        self._reporter = reporter or ErrorReporter(log)
        self._lock = threading.Lock()
        self._origin = origin_s
        self._counts = {"faces": 0, "events": 0, "scenes": 0, "camera_frames": 0, "dropped_faces": 0,
                        "dropped_events": 0, "dropped_camera_frames": 0, "out_of_order": 0, "rendered_frames": 0,
                        **({"audio_samples": 0, "audio_padded": 0, "dropped_audio_blocks": 0} if record_audio else {})}
        self._last_t = 0.0
        self._state: RecorderState = "recording"
        self._error: str | None = None
        self._last_scene: str | None = None
        self._last_face: FaceObservation | None = None
        self._closed = threading.Event()
        self._created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        # writer-thread state (only the track thread touches these)
        self._ready = threading.Event()
        self._rows: dict[str, list] = {"t_s": [], "frame_index": [], "present": [], "features": []}
        self._rows_file: io.TextIOWrapper | None = None
        self._landmarks_file: io.BufferedWriter | None = None
        self._crops: VideoFileOutput | None = None
        self._events_file: io.TextIOWrapper | None = None
        self._track_flush = _FlushTimer()
        self._flushed_rows = 0
        # camera-thread state
        self._camera: VideoFileOutput | None = None
        self._camera_flush = _FlushTimer()
        # sound-thread state
        self._audio_track: AudioTrackWriter | None = None
        self._audio_early: collections.deque = collections.deque()
        self._audio_flush = _FlushTimer()
        self._track = _Channel("track", queue_size, self._handle_track, self._tick_track)
        self._video = _Channel("camera", video_queue_size, self._handle_camera, self._tick_camera)
        self._audio = _Channel("audio", audio_queue_size, self._handle_audio, self._tick_audio)
        self._track.thread.start()
        if record_video:
            self._video.thread.start()
        if record_audio:
            self._audio.thread.start()

    # -- callers' side (any thread; never blocks, never raises) ---------------------------------------
    @property
    def recording(self) -> bool:
        return self._state == "recording" and not self._closed.is_set()

    def add_face(self, obs: FaceObservation) -> None:
        """One tracker observation. The same observation offered again (a render loop peeking the newest face
        every frame) is recorded once."""
        if obs is self._last_face:
            return
        self._last_face = obs
        self._offer(self._track, ("face", obs), obs.t_capture_s, "dropped_faces")

    def add_event(self, ev: ControlEvent) -> None:
        self._offer(self._track, ("event", ev), ev.t_s, "dropped_events")

    def add_events(self, events: Iterable[ControlEvent]) -> None:
        for ev in events:
            self.add_event(ev)

    def add_frame(self, frame: Frame) -> None:
        """The camera frame, for camera.mp4 (ignored unless record_video)."""
        if self.record_video:
            self._offer(self._video, ("frame", frame), frame.t_capture_s, "dropped_camera_frames")

    def add_audio(self, t_s: float, block: np.ndarray, sample_rate: int) -> None:
        """A block of the input's sound (mono float) whose first sample was heard at t_s, for audio.wav (ignored
        unless record_audio). The sound card's thread calls this: it only queues. Sound never sets the origin."""
        if self.record_audio:
            self._offer(self._audio, ("audio", (float(t_s), block, int(sample_rate))), t_s, "dropped_audio_blocks",
                        sets_origin=False)

    def add_scene(self, name: str, t_s: float | None = None) -> None:
        """The show entered scene `name` at t_s (default: now on the live clock, time.perf_counter).
        Recorded for verification (origin 'scene'); a rehearsal does not replay it."""
        if name == self._last_scene:
            return
        self._last_scene = name
        t = time.perf_counter() if t_s is None else float(t_s)
        self._offer(self._track, ("event", ControlEvent(t, fmt.SCENE_ADDRESS, (name,), fmt.SCENE_ORIGIN)), t,
                    "dropped_events")

    def __call__(self, index: int, plan: Any, generated: Any = None) -> None:
        """LiveOptions.on_frame: records a scene change (origin 'scene') when the plan's scene differs."""
        if plan is None:
            return
        with self._lock:
            self._counts["rendered_frames"] += 1
        self.add_scene(getattr(plan, "scene", ""), plan.t_s)

    def _offer(self, channel: _Channel, item: tuple, t_s: float, dropped_key: str, sets_origin: bool = True) -> None:
        if not self.recording:
            return
        if sets_origin and self._origin is None:
            with self._lock:
                if self._origin is None:
                    self._origin = float(t_s)
        try:
            channel.queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self._counts[dropped_key] += 1

    @property
    def status(self) -> RecorderStatus:
        with self._lock:
            c = dict(self._counts)
        dropped = c["dropped_faces"] + c["dropped_events"] + c["dropped_camera_frames"] + c.get("dropped_audio_blocks", 0)
        return RecorderStatus(self._state, str(self.directory), c["faces"], c["events"], c["camera_frames"],
                              dropped, self._last_t, self._error)

    def hud_lines(self) -> list[str]:
        return [self.status.line()]

    def close(self, timeout_s: float = 60.0) -> RecorderStatus:
        """Finish the recording: flush the videos, pack faces.npz, mark manifest.json complete. Idempotent."""
        if self._closed.is_set():
            return self.status
        self._closed.set()
        channels = [self._track] + ([self._video] if self.record_video else []) + ([self._audio] if self.record_audio else [])
        for ch in reversed(channels):  # the track's last: the manifest it ends with counts what the others wrote
            ch.queue.put(_STOP)  # blocking is fine here: the show is over
            ch.thread.join(timeout_s)
            if ch.thread.is_alive():
                self._fail(f"{ch.thread.name} did not finish within {timeout_s:.0f} s")
                return self.status
        if self._state == "recording":
            try:
                self._finish()
                self._state = "closed"
            except WRITE_ERRORS as exc:
                self._fail(f"could not finish the recording: {exc}")
            except Exception as exc:  # a bug here must still not raise into the caller's `finally`
                self._reporter.report("recorder close", exc)
                self._fail(f"could not finish the recording: {exc}")
        return self.status

    # -- writer threads ----------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        if self._state == "failed":
            return
        self._error = message
        self._state = "failed"
        log.error("recording to %s stopped: %s (the show goes on; this session folder is incomplete)",
                  self.directory, message)
        for w in (self._crops, self._camera):
            if w is not None:
                w.abort()
        if self._audio_track is not None:
            try:
                self._audio_track.close()  # what is written stays a valid WAV
            except Exception:  # a write that failed can fail again; that error was reported
                pass
        for f in (self._rows_file, self._landmarks_file, self._events_file):
            try:
                if f is not None:
                    f.close()
            except Exception:  # closing a file whose write failed can fail again; that error was reported
                pass

    def _guard(self, what: str, fn: Callable[[], None]) -> None:
        if self._state != "recording":
            return
        try:
            fn()
        except WRITE_ERRORS as exc:
            self._fail(f"could not write {what}: {exc}")
        except Exception as exc:  # one bad item (a bug, odd data) is skipped; the recording goes on
            self._reporter.report(f"recording {what}", exc)

    def _open(self) -> None:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        # first: an old complete manifest would make the folder look finished, and a crash from here on
        # must leave a folder the reader recognises as an unfinished recording
        self._write_manifest(complete=False)
        for stale in (fmt.FACES, ".landmarks.f16.partial"):
            (d / stale).unlink(missing_ok=True)
        self._rows_file = open(d / fmt.FACE_ROWS, "w", encoding="utf-8", newline="\n")
        self._landmarks_file = open(d / fmt.LANDMARKS, "wb")
        self._events_file = open(d / fmt.EVENTS, "w", encoding="utf-8", newline="\n")
        self._crops = VideoFileOutput(d / fmt.CROPS, (self.crop_size, self.crop_size), self.fps, crf=CROPS_CRF,
                                      preset="medium", recording=True)
        _fsync_dir(d)  # the new files' names survive a power cut too

    def _handle_track(self, item: tuple) -> None:
        if not self._ready.is_set():
            self._ready.set()
            self._guard("the session folder", self._open)
        kind, payload = item
        if kind == "face":
            self._guard(fmt.FACES, lambda: self._write_face(payload))
        else:
            self._guard(fmt.EVENTS, lambda: self._write_event(payload))

    def _time(self, t_s: float) -> float:
        return float(t_s) - (self._origin or 0.0)

    def _write_face(self, obs: FaceObservation) -> None:
        t = self._time(obs.t_capture_s)
        rows = self._rows
        if rows["t_s"] and t == rows["t_s"][-1] and obs.frame_index == rows["frame_index"][-1]:
            return  # the same observation again
        if rows["t_s"] and t < rows["t_s"][-1]:
            with self._lock:
                self._counts["out_of_order"] += 1
            return
        feats = np.array([obs.features.get(n, np.nan) for n in FEATURE_NAMES], np.float32)
        lm = np.full((N_LANDMARKS, 3), np.nan, np.float16)
        if obs.present and obs.landmarks is not None:
            src = np.asarray(obs.landmarks, np.float32).reshape(-1, np.shape(obs.landmarks)[-1])[:N_LANDMARKS, :3]
            lm[: src.shape[0], : src.shape[1]] = src
        crop = obs.crop if obs.present and obs.crop is not None else None
        if crop is None:
            crop = np.zeros((self.crop_size, self.crop_size, 3), np.uint8)
        elif crop.shape[:2] != (self.crop_size, self.crop_size):
            crop = cv2.resize(np.ascontiguousarray(crop), (self.crop_size, self.crop_size), interpolation=cv2.INTER_AREA)
        assert self._rows_file is not None and self._landmarks_file is not None and self._crops is not None
        # crop and landmarks before the row: a row on disk always has its crop and landmarks on disk too
        self._crops.write(crop)
        self._landmarks_file.write(lm.tobytes())
        self._rows_file.write(fmt.face_row_to_json(t, obs.frame_index, obs.present, feats) + "\n")
        self._track_flush.dirty = True
        rows["t_s"].append(t)
        rows["frame_index"].append(int(obs.frame_index))
        rows["present"].append(bool(obs.present))
        rows["features"].append(feats)
        with self._lock:
            self._counts["faces"] += 1
            self._last_t = max(self._last_t, t)

    def _write_event(self, ev: ControlEvent) -> None:
        try:
            line = fmt.event_to_json(ev, self._origin or 0.0)
        except TypeError as exc:
            self._reporter.report("recording an event", exc)
            return
        assert self._events_file is not None
        self._events_file.write(line + "\n")
        self._track_flush.dirty = True
        with self._lock:
            self._counts["scenes" if ev.origin == fmt.SCENE_ORIGIN else "events"] += 1
            self._last_t = max(self._last_t, ev.t_s - (self._origin or 0.0))

    def _tick_track(self) -> None:
        # on disk every FLUSH_INTERVAL_S, not every item: a flood of events costs no syscalls
        if not self._track_flush.due():
            return
        rows = len(self._rows["t_s"])
        # the crops first, then the landmarks and rows that need them
        if self._crops is not None:
            self._guard(fmt.CROPS, self._crops.flush)
        for name, f in ((fmt.LANDMARKS, self._landmarks_file), (fmt.EVENTS, self._events_file),
                        (fmt.FACE_ROWS, self._rows_file)):
            if f is not None:
                self._guard(name, lambda f=f: _sync(f))
        self._flushed_rows = rows
        self._guard(fmt.MANIFEST, lambda: self._write_manifest(complete=False))

    def _tick_camera(self) -> None:
        if self._camera_flush.due():
            assert self._camera is not None
            self._guard(fmt.CAMERA, self._camera.flush)

    def _handle_camera(self, item: tuple) -> None:
        self._guard(fmt.CAMERA, lambda: self._write_camera(item[1]))

    def _write_camera(self, frame: Frame) -> None:
        if self._camera is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            h, w = frame.image.shape[:2]
            # fast preset: the live show needs the CPU more than the file needs to be small
            self._camera = VideoFileOutput(self.directory / fmt.CAMERA, (w, h), self.fps, crf=23, preset="superfast",
                                           recording=True)
        t = self._time(frame.t_capture_s)
        if self._camera.write(frame.image, t_ms=max(round(t * 1000.0), 0)):
            self._camera_flush.dirty = True
            with self._lock:
                self._counts["camera_frames"] += 1
                self._last_t = max(self._last_t, t)

    def _handle_audio(self, item: tuple) -> None:
        self._guard(fmt.AUDIO, lambda: self._write_audio(*item[1]))

    def _write_audio(self, t_s: float, block: np.ndarray, rate: int) -> None:
        early = self._audio_early
        early.append((t_s, block, rate))
        if self._origin is None:  # keep the last seconds until the first face or event says where t = 0 is
            while early and t_s - early[0][0] > EARLY_AUDIO_S:
                early.popleft()
            return
        if self._audio_track is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._audio_track = AudioTrackWriter(self.directory / fmt.AUDIO, rate)
        track = self._audio_track
        while early:
            t, b, r = early.popleft()
            track.write(self._time(t), b, r)
        self._audio_flush.dirty = True
        with self._lock:
            self._counts["audio_samples"] = track.samples
            self._counts["audio_padded"] = track.padded

    def _tick_audio(self) -> None:
        if self._audio_flush.due():
            assert self._audio_track is not None
            self._guard(fmt.AUDIO, self._audio_track.flush)

    # -- the manifest ---------------------------------------------------------------------------------------
    def _write_manifest(self, complete: bool) -> None:
        """manifest.json, atomically. While recording it lists what the journals hold as of the last flush."""
        n = len(self._rows["t_s"]) if complete else self._flushed_rows
        files = {"faces": fmt.FACES, "events": fmt.EVENTS}
        if n or not complete:
            files["crops"] = fmt.CROPS
        if self.record_video and (self._camera is not None or not complete):
            files["camera"] = fmt.CAMERA
        if self._audio_track is not None:
            files["audio"] = fmt.AUDIO
        with self._lock:
            counts = dict(self._counts)
            last_t = self._last_t
        recorded = n or counts["events"] or counts["scenes"]
        manifest = fmt.Manifest(
            created=self._created, fps=self.fps, frames=n,
            duration_s=round(last_t + 1.0 / self.fps, 6) if recorded else 0.0,
            setlist=self._meta["setlist"], model=self._meta["model"], source=self._meta["source"],
            crop_size=self.crop_size, files=files, counts=counts, complete=complete)
        fmt.write_atomic(self.directory / fmt.MANIFEST, (json.dumps(manifest.to_json(), indent=2) + "\n").encode())

    # -- finishing (after both threads stopped) ----------------------------------------------------------
    def _finish(self) -> None:
        if not self._ready.is_set():
            self._open()  # nothing was recorded: still leave a valid, empty session
        d = self.directory
        assert self._rows_file is not None and self._landmarks_file is not None
        assert self._events_file is not None and self._crops is not None
        for f in (self._events_file, self._rows_file, self._landmarks_file):
            f.close()
        self._crops.close()
        if self._camera is not None:
            self._camera.close()
        if self._audio_track is not None:
            self._audio_track.close()
        n = len(self._rows["t_s"])
        landmarks = np.memmap(d / fmt.LANDMARKS, np.float16, "r", shape=(n, N_LANDMARKS, 3)) if n else \
            np.zeros((0, N_LANDMARKS, 3), np.float16)
        features = np.stack(self._rows["features"]) if n else np.zeros((0, len(FEATURE_NAMES)), np.float32)
        tmp = d / (fmt.FACES + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f, t_s=np.asarray(self._rows["t_s"], np.float64),
                frame_index=np.asarray(self._rows["frame_index"], np.int64),
                present=np.asarray(self._rows["present"], bool), features=features,
                feature_names=np.asarray(FEATURE_NAMES), landmarks=landmarks)
            f.flush()
            os.fsync(f.fileno())
        del landmarks
        os.replace(tmp, d / fmt.FACES)
        if not n:
            (d / fmt.CROPS).unlink(missing_ok=True)
        self._write_manifest(complete=True)
        # only now: until the manifest says complete, a crash must find the journals
        for journal in (fmt.FACE_ROWS, fmt.LANDMARKS):
            (d / journal).unlink(missing_ok=True)


def _sync(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the files themselves are synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
