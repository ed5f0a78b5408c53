"""H.264 video in and out for sessions (PyAV): the face-crop track and the optional camera video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

_MS = Fraction(1, 1000)


class H264Writer:
    """Encodes RGB frames to an MP4 file. Frames of another size are resized (the camera may change mode).

    Timestamps are in milliseconds: pass t_ms for variable-rate video (a live camera), or leave it out and
    frames are numbered at `fps`. Raises OSError or av.FFmpegError when the file cannot be written.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, crf: int = 20, preset: str = "medium",
                 threads: int = 1) -> None:
        w, h = size
        if w < 2 or h < 2:
            raise ValueError(f"video size {size} too small")
        # yuv420p needs even sizes: drop a last odd row/column rather than scale
        self.size = (w - w % 2, h - h % 2)
        self.fps = fps
        self._container = av.open(str(path), "w")
        try:
            stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset}
            stream.codec_context.time_base = _MS
            # one thread: on a 2-core laptop the show needs the other core more than the recording does
            stream.codec_context.thread_count = threads
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._last_pts = -1
        self.frames = 0

    def write(self, rgb: np.ndarray, t_ms: int | None = None) -> bool:
        """Encode one (H, W, 3) uint8 frame; returns False (frame skipped) if its time is not after the last."""
        pts = int(t_ms) if t_ms is not None else round(self.frames * 1000 / self.fps)
        if pts <= self._last_pts:
            if t_ms is not None:
                return False
            pts = self._last_pts + 1
        w, h = self.size
        img = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
        if img.shape[:2] != (h, w):
            if img.shape[0] >= h and img.shape[1] >= w and img.shape[0] - h <= 1 and img.shape[1] - w <= 1:
                img = np.ascontiguousarray(img[:h, :w])
            else:
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, _MS
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.frames += 1
        return True

    def close(self) -> None:
        """Flush the encoder and finish the file (the MP4 index is written here)."""
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()

    def abort(self) -> None:
        """Close without flushing, ignoring errors (after a write failed)."""
        try:
            self._container.close()
        except Exception:  # the file is being abandoned; its error was already reported
            pass


class VideoError(Exception):
    """A video that cannot be read: missing, truncated, corrupt, or without a video stream."""


def decode_all(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of a video as (N, H, W, 3) uint8 RGB, with presentation times (N,) in seconds."""
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
        raise VideoError(str(exc)) from exc
    if not frames:
        return np.zeros((0, 0, 0, 3), np.uint8), np.zeros(0)
    return np.stack(frames), np.asarray(times)
