"""The session folder format (version 1): file names, the manifest, and events as JSON lines.

A session folder holds a live run's inputs, in open formats, so a rehearsal can replay them frame-exactly:

    manifest.json   written when recording starts ("complete": false), rewritten every second, and last,
                    with "complete": true, when it closes; always replaced atomically
    faces.npz       the face track: t_s, frame_index, present, features + feature_names, landmarks (float16);
                    packed at close from the two journals below
    faces.rows.partial       while recording: one face row a JSON line (t_s, frame_index, present, features)
    faces.landmarks.partial  while recording: the rows' landmarks, raw float16 (478, 3) each
    crops.mp4       the aligned face crops (H.264, fragmented MP4), one video frame per face row, black where absent
    events.jsonl    one control event a line: {"t_s", "address", "args", "origin"}
    camera.mp4      optional: the camera video (H.264, fragmented MP4), presentation times in milliseconds
    audio.wav       optional: the audio input's sound, mono 16-bit PCM, sample k at time k / rate

Everything is appended and flushed to disk at least every second, so a recording that never closed (the
process killed, the power cut) replays up to its last flush: the reader rebuilds the face track from the
journals, ignores a cut-off last line and uses the decodable prefix of the videos (reader.py).

Every time is in seconds relative to the session's origin (its first recorded frame). docs/sessions.md is the
reference for users; this module is the one place the names and keys are spelled.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from perform.control.events import ControlEvent

FORMAT = "perform-session"
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
FACES = "faces.npz"
CROPS = "crops.mp4"
EVENTS = "events.jsonl"
CAMERA = "camera.mp4"
AUDIO = "audio.wav"
FACE_ROWS = "faces.rows.partial"
LANDMARKS = "faces.landmarks.partial"

# the keys of faces.npz
FACE_KEYS = ("t_s", "frame_index", "present", "features", "feature_names", "landmarks")

SCENE_ADDRESS = "/perform/scene/entered"  # recorded for verification, never replayed
SCENE_ORIGIN = "scene"
REPLAY_ORIGIN = "replay"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What manifest.json says about a session.

    frames: face rows recorded (rows of faces.npz, frames of crops.mp4).
    duration_s: the time of the last thing recorded plus one frame period: a rehearsal of
        round(duration_s * fps) frames covers the whole recording.
    files: role -> file name inside the folder ("faces", "events", "crops" unless frames is 0, optionally
        "camera" and "audio").
    counts: what was recorded and what was dropped (faces, events, camera_frames, dropped_*).
    complete: False while recording (and after a recording that never closed): the face track is then in
        the journals, and frames / duration_s / counts are as of the last flush.
    """

    created: str
    fps: float
    frames: int
    duration_s: float
    setlist: str
    model: str
    source: str
    crop_size: int
    files: Mapping[str, str]
    counts: Mapping[str, int] = field(default_factory=dict)
    complete: bool = True
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format, "format_version": self.format_version, "created": self.created,
            "fps": self.fps, "frames": self.frames, "duration_s": self.duration_s, "setlist": self.setlist,
            "model": self.model, "source": self.source, "crop_size": self.crop_size, "files": dict(self.files),
            "counts": dict(self.counts), "complete": self.complete,
        }


class FormatError(ValueError):
    """A session file says something this version cannot read; the message names the key."""


def manifest_from_json(data: Any) -> Manifest:
    """Validate a parsed manifest.json. Unknown keys are ignored: a later version-1 writer may add some."""
    if not isinstance(data, dict):
        raise FormatError("expected a JSON object")
    if data.get("format") != FORMAT:
        raise FormatError(f"'format' is {data.get('format')!r}, expected {FORMAT!r}")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError(f"'format_version' is {version!r}, expected a whole number >= 1")
    if version > FORMAT_VERSION:
        raise FormatError(f"format_version {version} was written by a newer perform; this one reads up to "
                          f"{FORMAT_VERSION}: update perform to replay it")
    fps = _number(data, "fps")
    if fps <= 0:
        raise FormatError(f"'fps' is {fps}, expected > 0")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise FormatError("'files' must map roles to file names")
    frames = _int(data, "frames")
    # an empty recording has no crops video (an MP4 needs at least one frame)
    for role in ("faces", "events") + (("crops",) if frames else ()):
        if role not in files:
            raise FormatError(f"'files' has no {role!r} entry")
    for name in files.values():
        if Path(name).name != name or name in ("", ".", ".."):
            raise FormatError(f"'files' names {name!r}: a file name inside the session folder was expected")
    counts = data.get("counts", {})
    if not isinstance(counts, dict):
        raise FormatError("'counts' must be an object")
    complete = data.get("complete", True)  # sessions written before the key existed were closed cleanly
    if not isinstance(complete, bool):
        raise FormatError(f"'complete' is {complete!r}, expected true or false")
    return Manifest(
        created=_str(data, "created"), fps=fps, frames=frames, duration_s=_number(data, "duration_s"),
        setlist=_str(data, "setlist"), model=_str(data, "model"), source=_str(data, "source"),
        crop_size=_int(data, "crop_size"), files=dict(files),
        counts={str(k): int(v) for k, v in counts.items() if isinstance(v, int)},
        complete=complete, format=FORMAT, format_version=version,
    )


def _number(data: dict, key: str) -> float:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise FormatError(f"'{key}' is {v!r}, expected a number")
    return float(v)


def _int(data: dict, key: str) -> int:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise FormatError(f"'{key}' is {v!r}, expected a whole number >= 0")
    return v


def _str(data: dict, key: str) -> str:
    v = data.get(key)
    if not isinstance(v, str):
        raise FormatError(f"'{key}' is {v!r}, expected a string")
    return v


# -- events ---------------------------------------------------------------------------------------------
_ARG_TYPES = (bool, int, float, str)


def event_to_json(ev: ControlEvent, origin_s: float) -> str:
    """One JSON line (no newline) for an event, its time made relative to the session origin.

    Raises TypeError for an argument JSON cannot carry faithfully (bytes, nested data).
    """
    args = tuple(ev.args)
    for a in args:
        if not isinstance(a, _ARG_TYPES):
            raise TypeError(f"{ev.address}: argument {a!r} of type {type(a).__name__} cannot be recorded")
    # NaN/Infinity are written as JSON's common extension (Python, JavaScript's JSON5 readers accept them)
    return json.dumps({"t_s": ev.t_s - origin_s, "address": ev.address, "args": list(args), "origin": ev.origin},
                      separators=(",", ":"))


def event_from_json(line: str) -> ControlEvent:
    """Parse one line of events.jsonl; raises FormatError (or json.JSONDecodeError) naming what is wrong."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise FormatError("expected a JSON object")
    t = data.get("t_s")
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise FormatError(f"'t_s' is {t!r}, expected a number")
    address, origin, args = data.get("address"), data.get("origin", "osc"), data.get("args", [])
    if not isinstance(address, str) or not address.startswith("/"):
        raise FormatError(f"'address' is {address!r}, expected an OSC address starting with '/'")
    if not isinstance(origin, str):
        raise FormatError(f"'origin' is {origin!r}, expected a string")
    if not isinstance(args, list) or not all(isinstance(a, _ARG_TYPES) for a in args):
        raise FormatError(f"'args' is {args!r}, expected a list of numbers, booleans and strings")
    return ControlEvent(float(t), address, tuple(args), origin)


# -- face rows (the journal written while recording) --------------------------------------------------
def face_row_to_json(t_s: float, frame_index: int, present: bool, features) -> str:
    """One line of faces.rows.partial; floats round-trip exactly (float32 features included)."""
    return json.dumps({"t_s": float(t_s), "frame_index": int(frame_index), "present": bool(present),
                       "features": [float(v) for v in features]}, separators=(",", ":"))


def face_row_from_json(line: str, n_features: int) -> tuple[float, int, bool, list[float]]:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise FormatError("expected a JSON object")
    t, idx, present, feats = data.get("t_s"), data.get("frame_index"), data.get("present"), data.get("features")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        raise FormatError(f"'t_s' is {t!r}, expected a number")
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise FormatError(f"'frame_index' is {idx!r}, expected a whole number")
    if not isinstance(present, bool):
        raise FormatError(f"'present' is {present!r}, expected true or false")
    if not isinstance(feats, list) or len(feats) != n_features or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in feats):
        raise FormatError(f"'features' must be a list of {n_features} numbers")
    return float(t), idx, present, [float(v) for v in feats]


# -- files ----------------------------------------------------------------------------------------------
def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old one, or the whole new one, never a part (temp + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
