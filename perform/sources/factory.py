"""open_source: a source from a short spec string ("synthetic", "camera", "camera:1", "2", "take.mp4")."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from perform.errors import PerformError
from perform.sources.frame import Source

SPEC_HELP = "'synthetic', 'synthetic:SEED', 'camera' (camera 0), 'camera:N' (or just N) or a video file path"


def parse_spec(spec: str) -> tuple[str, Any]:
    """('synthetic', seed|None), ('camera', index) or ('video', Path). PerformError for an unusable spec."""
    s = spec.strip()
    if m := re.fullmatch(r"synthetic(?::(-?\d+))?", s):
        return "synthetic", int(m.group(1)) if m.group(1) else None
    if s == "camera":
        return "camera", 0
    if m := re.fullmatch(r"(?:camera:)?(\d+)", s):
        return "camera", int(m.group(1))
    if s.startswith("camera:"):
        raise PerformError(f"bad camera spec {spec!r}: expected camera:N with N a camera index, e.g. camera:0")
    path = Path(s).expanduser()
    if not path.is_file():
        raise PerformError(f"source {spec!r}: no such file (expected {SPEC_HELP})")
    return "video", path


def open_source(spec: str, **opts: Any) -> Source:
    """Open the source a spec names. opts go to its constructor; those it does not take are ignored
    (so a caller can pass size=, fps= to whatever comes), except that a name no source takes is an error.

    synthetic: SyntheticSource(fps, size, seed, dropouts, fail_after, noise_sigma, stall_file)
    camera:    CameraSource(index, size, fps, stall_s, ...)
    file:      VideoFileSource(path, loop)
    """
    # cv2 and PyAV are loaded only when a source is opened (parse_spec alone needs neither)
    from perform.sources.camera import CameraSource
    from perform.sources.synthetic import SyntheticSource
    from perform.sources.video import VideoFileSource

    kinds = {"synthetic": SyntheticSource, "camera": CameraSource, "video": VideoFileSource}
    known = set().union(*(inspect.signature(c).parameters for c in kinds.values()))
    unknown = sorted(set(opts) - known)
    if unknown:
        raise PerformError(f"unknown source option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    kind, arg = parse_spec(spec)
    cls = kinds[kind]
    accepted = inspect.signature(cls).parameters
    kwargs = {k: v for k, v in opts.items() if k in accepted}
    if kind == "synthetic" and arg is not None:
        kwargs["seed"] = arg
    elif kind == "camera":
        kwargs["index"] = arg
    elif kind == "video":
        kwargs["path"] = arg
    return cls(**kwargs)
