"""H.264 video in for sessions (PyAV): the face-crop track and the camera video, decoded back.

They are written by the one H.264 writer, `perform.render.video_out.VideoFileOutput(recording=True)`:
fragmented MP4 that replays up to its last flush after a kill.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


class VideoError(Exception):
    """A video that cannot be read: missing, truncated, corrupt, or without a video stream."""


def decode_all(path: Path, prefix: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of a video as (N, H, W, 3) uint8 RGB, with presentation times (N,) in seconds.

    prefix: a file cut short (a recording that never closed) gives the frames before the damage instead
    of raising; a file with no readable frame still raises.
    """
    frames: list[np.ndarray] = []
    times: list[float] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError("it has no video stream")
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
                times.append(float(frame.time) if frame.time is not None else float(len(times)))
    except (av.FFmpegError, OSError) as exc:
        if not (prefix and frames):
            raise VideoError(str(exc)) from exc
    if not frames:
        return np.zeros((0, 0, 0, 3), np.uint8), np.zeros(0)
    return np.stack(frames), np.asarray(times)
