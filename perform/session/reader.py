"""Reading a session folder back, for the fixed clock: load_session(dir) -> Session.

Every problem is a PerformError naming the file and what is wrong with it, before a rehearsal starts.
A recording that never closed (manifest "complete": false: the process was killed, the power went) is
repaired in memory, not on disk: the face track comes from the journals, a cut-off last line is left out,
the videos' decodable prefix is used, and `Session.repairs` says what was done.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from perform.control.events import ControlEvent
from perform.errors import PerformError
from perform.jsonl import JSONLinesError, read_json_lines
from perform.session import format as fmt
from perform.session.video import VideoError, decode_all
from perform.tracking.observation import FEATURE_NAMES, FEATURE_RANGES, FaceObservation


@dataclass(frozen=True, slots=True, eq=False)
class FaceTrack:
    """The face rows of a session: t_s (N,) float64 non-decreasing, frame_index (N,) int64, present (N,) bool,
    features (N, F) float32 with feature_names (F,), landmarks (N, 478, 3) float16 (NaN where absent),
    crops (N, S, S, 3) uint8 RGB."""

    t_s: np.ndarray
    frame_index: np.ndarray
    present: np.ndarray
    features: np.ndarray
    feature_names: tuple[str, ...]
    landmarks: np.ndarray
    crops: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


class Session:
    """A loaded session folder. Everything is in memory: a 20-minute set at 30 fps is a few hundred MB at most
    with 64 px crops, and a rehearsal must not stall on a disk read."""

    def __init__(self, directory: Path, manifest: fmt.Manifest, faces: FaceTrack,
                 recorded_events: list[ControlEvent], repairs: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.manifest = manifest
        self.faces = faces
        self.recorded_events = recorded_events  # as recorded: scene records and original origins included
        self.repairs = repairs  # what opening an unfinished recording had to do, one sentence each

    @property
    def duration_s(self) -> float:
        return self.manifest.duration_s

    @property
    def frame_count(self) -> int:
        """Frames a fixed-clock rehearsal at the session's fps needs to cover it."""
        return int(round(self.manifest.duration_s * self.manifest.fps))

    def events(self) -> list[ControlEvent]:
        """The control events to replay (origin 'replay'), in time order; scene records are left out."""
        return [replace(e, origin=fmt.REPLAY_ORIGIN) for e in self.recorded_events if e.origin != fmt.SCENE_ORIGIN]

    def scene_changes(self) -> list[tuple[float, str]]:
        """(t_s, scene name) as recorded live: to check that a rehearsal follows the same scenes."""
        return [(e.t_s, str(e.args[0]) if e.args else "") for e in self.recorded_events
                if e.origin == fmt.SCENE_ORIGIN]

    @property
    def audio_path(self) -> Path | None:
        """The recorded input sound (audio.wav: sample k at time k / rate), or None when none was recorded."""
        name = self.manifest.files.get("audio")
        return self.directory / name if name and (self.directory / name).is_file() else None

    def face_input(self, crop_size: int | None = None) -> "SessionFaceInput":
        return SessionFaceInput(self, crop_size or self.manifest.crop_size)


# Recorded times are differences of clock readings (t - origin), so a row captured on a frame's time can land
# a few ulps after it; a microsecond of slack, far below any frame period, keeps such a row on its frame.
TIME_SLACK_S = 1e-6


class SessionFaceInput:
    """A FaceInput for the fixed clock: face_at(t_s, index) is the row recorded last at or before t_s
    (within TIME_SLACK_S).

    Deterministic and frame-exact: no interpolation, so a rehearsal sees exactly the observations the live run
    recorded. status: 'waiting' before the first row, 'ok' during, 'ended' past duration_s.
    """

    def __init__(self, session: Session, crop_size: int) -> None:
        if crop_size < 1:
            raise PerformError(f"crop size must be >= 1, got {crop_size}")
        self._faces = session.faces
        self._duration_s = session.duration_s
        self._names = self._faces.feature_names
        crops = self._faces.crops
        if len(crops) and crops.shape[1:3] != (crop_size, crop_size):
            interp = cv2.INTER_AREA if crop_size < crops.shape[1] else cv2.INTER_LINEAR
            crops = np.stack([cv2.resize(c, (crop_size, crop_size), interpolation=interp) for c in crops])
        self._crops = crops
        self.status = "waiting"

    def face_at(self, t_s: float, index: int) -> FaceObservation | None:
        """The observation recorded last at or before t_s; None before the first one and past the end."""
        if t_s >= self._duration_s - TIME_SLACK_S:
            self.status = "ended"
            return None
        i = int(np.searchsorted(self._faces.t_s, t_s + TIME_SLACK_S, side="right")) - 1
        if i < 0:
            self.status = "waiting"
            return None
        self.status = "ok"
        f = self._faces
        features = {n: float(v) for n, v in zip(self._names, f.features[i]) if np.isfinite(v)}
        if not f.present[i]:
            return FaceObservation.absent(float(f.t_s[i]), int(f.frame_index[i]), features or None)
        return FaceObservation(float(f.t_s[i]), int(f.frame_index[i]), True, features,
                               f.landmarks[i].astype(np.float32), self._crops[i].copy())

    def close(self) -> None:
        pass


def load_session(directory: str | Path) -> Session:
    """Load and check a session folder; raises PerformError naming the file and the problem."""
    d = Path(directory)
    if not d.is_dir():
        raise PerformError(f"{d}: no such session folder")
    manifest = _load_manifest(d)
    if not manifest.complete:
        return _load_unfinished(d, manifest)
    faces = _load_faces(d / manifest.files["faces"], manifest)
    if "crops" in manifest.files:
        crops = _load_crops(d / manifest.files["crops"], len(faces.t_s), manifest.crop_size)
    else:  # an empty recording (the manifest check requires crops whenever there are rows)
        crops = np.zeros((0, manifest.crop_size, manifest.crop_size, 3), np.uint8)
    faces = replace(faces, crops=crops)
    events = _load_events(d / manifest.files["events"])
    return Session(d, manifest, faces, events)


def _load_manifest(d: Path) -> fmt.Manifest:
    path = d / fmt.MANIFEST
    if not path.is_file():
        raise PerformError(f"{path}: missing: {d} is not a session folder, or its recording did not finish "
                           "(the manifest is written last)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PerformError(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PerformError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    try:
        manifest = fmt.manifest_from_json(data)
    except fmt.FormatError as exc:
        raise PerformError(f"{path}: {exc}") from exc
    for role, name in manifest.files.items():
        if not manifest.complete and role in ("faces", "crops", "camera", "audio"):
            continue  # an unfinished recording: the face track is in its journals, videos may not have begun
        if not (d / name).is_file():
            raise PerformError(f"{d / name}: missing (the manifest lists it as the session's {role} file)")
    return manifest


def _load_faces(path: Path, manifest: fmt.Manifest) -> FaceTrack:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in fmt.FACE_KEYS if k not in z.files]
            if missing:
                raise PerformError(f"{path}: has no {', '.join(missing)} (expected {', '.join(fmt.FACE_KEYS)})")
            arrays = {k: z[k] for k in fmt.FACE_KEYS}
    except PerformError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        raise PerformError(f"{path}: truncated or corrupt ({type(exc).__name__}: {exc})") from exc
    t, idx, present, feats, names, lm = (arrays[k] for k in fmt.FACE_KEYS)
    n = len(t)
    shapes = {"t_s": (t.shape, (n,)), "frame_index": (idx.shape, (n,)), "present": (present.shape, (n,)),
              "features": (feats.shape, (n, len(names))), "feature_names": (names.shape, (len(names),)),
              "landmarks": (lm.shape, (n, 478, 3))}
    for key, (got, want) in shapes.items():
        if got != want:
            raise PerformError(f"{path}: '{key}' has shape {got}, expected {want} (inconsistent lengths)")
    if manifest.frames != n:
        raise PerformError(f"{path}: {n} face rows but {fmt.MANIFEST} says frames = {manifest.frames}")
    if n and not np.all(np.diff(t) >= 0):
        raise PerformError(f"{path}: 't_s' is not in time order")
    if not np.all(np.isfinite(t)):
        raise PerformError(f"{path}: 't_s' has values that are not finite")
    feature_names = tuple(str(x) for x in names)
    unknown = [x for x in feature_names if x not in FEATURE_RANGES]
    if unknown:
        # a feature this version does not know would be silently ignored by every mapping: say so
        raise PerformError(f"{path}: unknown feature names {unknown} (this version knows {list(FEATURE_NAMES)})")
    return FaceTrack(t.astype(np.float64), idx.astype(np.int64), present.astype(bool),
                     feats.astype(np.float32), feature_names, lm.astype(np.float16),
                     np.zeros((0, 0, 0, 3), np.uint8))


def _load_crops(path: Path, rows: int, crop_size: int) -> np.ndarray:
    try:
        crops, _ = decode_all(path)
    except VideoError as exc:
        raise PerformError(f"{path}: truncated or corrupt video ({exc})") from exc
    if rows == 0 and len(crops) == 0:
        return np.zeros((0, crop_size, crop_size, 3), np.uint8)
    if len(crops) != rows:
        raise PerformError(f"{path}: {len(crops)} frames but the face track has {rows} rows (one crop per row "
                           "expected; truncated?)")
    return crops


def _load_events(path: Path, repairs: list[str] | None = None) -> list[ControlEvent]:
    """The events, in time order. repairs: a list for an unfinished recording (a cut-off last line is left out
    and reported there); None for a closed one, where a cut-off line is damage done since and an error."""
    events, cut = _json_lines(path, fmt.event_from_json)
    if cut:
        if repairs is None:
            raise PerformError(f"{path}: line {cut} is cut off (the file was damaged after the recording closed?)")
        repairs.append(f"{path.name}: a cut-off last line (the write the stop interrupted) left out")
    # stable: events recorded at the same time keep their order
    events.sort(key=lambda e: e.t_s)
    return events


def _json_lines(path: Path, parse) -> tuple[list, int]:
    """The items of a journal, and the number of its cut-off last line (0 if none)."""
    try:
        items, cut = read_json_lines(path, parse, invalid=(fmt.FormatError,), allow_cut=True)
    except OSError as exc:
        raise PerformError(f"{path}: cannot read: {exc}") from exc
    except JSONLinesError as exc:
        raise PerformError(f"{path}: {exc}") from exc
    return [item for _, item in items], cut


def _load_unfinished(d: Path, manifest: fmt.Manifest) -> Session:
    """A recording that never closed: everything flushed before it stopped, cut to what every file holds."""
    repairs = ["the recording did not close (killed, or the power went): replaying what was on disk"]
    rows_path, lm_path = d / fmt.FACE_ROWS, d / fmt.LANDMARKS
    names = FEATURE_NAMES
    rows: list = []
    if rows_path.is_file():
        rows, cut = _json_lines(rows_path, lambda line: fmt.face_row_from_json(line, len(names)))
        if cut:
            repairs.append(f"{fmt.FACE_ROWS}: a cut-off last line left out")
    n_landmarks = lm_path.stat().st_size // (478 * 3 * 2) if lm_path.is_file() else 0
    crops = np.zeros((0, manifest.crop_size, manifest.crop_size, 3), np.uint8)
    crops_path = d / manifest.files.get("crops", fmt.CROPS)
    if rows and crops_path.is_file():
        try:
            crops, _ = decode_all(crops_path, prefix=True)
        except VideoError as exc:
            repairs.append(f"{crops_path.name}: no decodable frame ({exc})")
    n = min(len(rows), n_landmarks, len(crops))
    if n < len(rows):
        repairs.append(f"face track: {len(rows) - n} last row(s) left out (their crop or landmarks were not on "
                       f"disk yet); {n} kept")
    rows = rows[:n]
    if n and not all(b[0] >= a[0] for a, b in zip(rows, rows[1:])):
        raise PerformError(f"{rows_path}: 't_s' is not in time order")
    landmarks = np.fromfile(lm_path, np.float16, count=n * 478 * 3).reshape(n, 478, 3) if n else \
        np.zeros((0, 478, 3), np.float16)
    faces = FaceTrack(np.array([r[0] for r in rows], np.float64), np.array([r[1] for r in rows], np.int64),
                      np.array([r[2] for r in rows], bool),
                      np.array([r[3] for r in rows], np.float32).reshape(n, len(names)), tuple(names), landmarks,
                      crops[:n] if n else np.zeros((0, manifest.crop_size, manifest.crop_size, 3), np.uint8))
    events_path = d / manifest.files["events"]
    events = _load_events(events_path, repairs) if events_path.is_file() else []
    last_t = max(([float(faces.t_s[-1])] if n else []) + [e.t_s for e in events], default=None)
    duration = 0.0 if last_t is None else round(last_t + 1.0 / manifest.fps, 6)
    repaired = replace(manifest, frames=n, duration_s=duration,
                       files={k: v for k, v in manifest.files.items() if k != "crops" or n})
    return Session(d, repaired, faces, events, tuple(repairs))
