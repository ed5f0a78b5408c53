"""H.264 video in and out for sessions (PyAV): the face-crop track and the optional camera video.

Written as fragmented MP4, one fragment a frame, with x264's zero-latency tuning (no frames held back for
look-ahead or B-frames): everything up to the last `flush()` is on disk and decodes, even when the process is
killed or the power goes before the file is closed. A plain MP4 writes its index at the end and is
unreadable without it. Measured with PyAV on a killed writer: plain MP4 0 of 90 frames decodable; this
format 89 of 90 (the last frame's fragment is written when the next begins), and a file cut at any byte
gives the frames before the cut.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

_MS = Fraction(1, 1000)
# empty_moov: the header goes first; frag_every_frame: each frame is complete on disk once written;
# default_base_moof: what browsers and QuickTime expect of fragments
_FRAGMENTED = {"movflags": "empty_moov+default_base_moof+frag_keyframe+frag_every_frame", "flush_packets": "1"}


class H264Writer:
    """Encodes RGB frames to an MP4 file. Frames of another size are resized (the camera may change mode).

    Timestamps are in milliseconds: pass t_ms for variable-rate video (a live camera), or leave it out and
    frames are numbered at `fps`. Raises OSError or av.FFmpegError when the file cannot be written.
    `flush()` puts what was written on disk (fsync); a reader then decodes every frame up to it.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, crf: int = 20, preset: str = "medium",
                 threads: int = 1) -> None:
        w, h = size
        if w < 2 or h < 2:
            raise ValueError(f"video size {size} too small")
        # yuv420p needs even sizes: drop a last odd row/column rather than scale
        self.size = (w - w % 2, h - h % 2)
        self.fps = fps
        self._file = open(path, "wb")  # ours, so that flush() can fsync it
        try:
            self._container = av.open(self._file, "w", format="mp4", options=dict(_FRAGMENTED))
        except BaseException:
            self._file.close()
            raise
        try:
            stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset, "tune": "zerolatency"}
            stream.codec_context.time_base = _MS
            # one thread: on a 2-core laptop the show needs the other core more than the recording does
            stream.codec_context.thread_count = threads
        except BaseException:
            self._container.close()
            self._file.close()
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

    def flush(self) -> None:
        """Put every frame muxed so far on disk (the muxer hands each fragment to the file as it ends)."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            try:
                self._container.close()
            finally:
                self._file.close()

    def abort(self) -> None:
        """Close without flushing, ignoring errors (after a write failed)."""
        for closer in (self._container.close, self._file.close):
            try:
                closer()
            except Exception:  # the file is being abandoned; its error was already reported
                pass


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
