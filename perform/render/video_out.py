"""Video file output: H.264 MP4 through PyAV, frame-exact timestamps, optional audio muxed for sync checks."""

from __future__ import annotations

import logging
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from perform.errors import PerformError

log = logging.getLogger(__name__)

_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
AUDIO_RATE = 48_000


def as_fps(fps: float | int | Fraction) -> Fraction:
    """A frame rate as an exact fraction (29.97 -> 30000/1001), so frame n lands on n/fps exactly."""
    f = Fraction(fps).limit_denominator(1001)
    if f <= 0:
        raise PerformError(f"fps must be > 0, got {fps!r}")
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(f - ntsc) < Fraction(1, 1000):
            return ntsc
    return f


class VideoFileOutput:
    """Writes (H, W, 3) uint8 frames, top row first, to an H.264 (yuv420p) file.

    Frame n has pts n in a time base of 1/fps, so it shows at exactly n/fps. The file is written to
    `PATH.partial` and renamed to PATH by `close()`; `abort()` (or leaving a `with` block by an exception)
    removes it, so an interrupted render never leaves a file that looks complete. With `audio_path`, that
    file's first audio stream is decoded, re-encoded to AAC alongside the frames and trimmed to the video's
    length. Problems with the path or the audio raise PerformError here, before any rendering.

    With `threaded` (the default) frames are encoded on a writer thread behind a short queue, so x264 works
    while the next frame renders; order, timestamps and output are the same as without it.
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: float | Fraction = 30,
                 audio_path: str | os.PathLike | None = None, crf: int = 18, preset: str = "veryfast",
                 audio_offset_s: float = 0.0,
                 threaded: bool = True) -> None:
        self.path = Path(path)
        self.partial_path = self.path.with_name(self.path.name + ".partial")
        self.size = (int(size[0]), int(size[1]))
        self.fps = as_fps(fps)
        self.frames_written = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue[av.VideoFrame | None] | None = None
        self._thread: threading.Thread | None = None
        fmt = _FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise PerformError(f"video output {self.path}: unknown extension; use one of {', '.join(_FORMATS)}")
        w, h = self.size
        if w < 2 or h < 2 or w % 2 or h % 2:
            raise PerformError(f"video output {self.path}: size {w}x{h} must be even in both directions (yuv420p)")
        if not 0 <= crf <= 51:
            raise PerformError(f"video output {self.path}: crf {crf} is outside 0..51")
        if not self.path.parent.is_dir():
            raise PerformError(f"video output {self.path}: folder {self.path.parent} does not exist")
        if self.path.is_dir():
            raise PerformError(f"video output {self.path} is a folder")
        self._audio_in: av.container.InputContainer | None = None
        try:
            self._out = av.open(str(self.partial_path), mode="w", format=fmt)
        except (OSError, av.FFmpegError) as exc:
            raise PerformError(f"cannot write video output {self.path}: {exc}") from exc
        try:
            self._video = self._out.add_stream("libx264", rate=self.fps)
            self._video.width, self._video.height = w, h
            self._video.pix_fmt = "yuv420p"
            self._video.codec_context.time_base = 1 / self.fps
            self._video.options = {"crf": str(int(crf)), "preset": preset}
            if audio_path is not None:
                self._open_audio(Path(audio_path))
                # a render that starts at --from S takes the track from S, so picture and sound stay in sync
                self._audio_skip = int(round(max(0.0, audio_offset_s) * AUDIO_RATE))
        except BaseException:
            self.abort()
            raise
        self._closed = False
        if threaded:
            self._queue = queue.Queue(maxsize=4)  # back-pressure: a slow encoder slows the renderer, memory stays flat
            self._thread = threading.Thread(target=self._writer, name="video-writer", daemon=True)
            self._thread.start()

    # -- writing --------------------------------------------------------------------------------------------------

    def write(self, image: np.ndarray) -> None:
        """Append one frame (H, W, 3) uint8, top row first, at time frames_written / fps."""
        w, h = self.size
        if image.shape != (h, w, 3) or image.dtype != np.uint8:
            raise PerformError(f"video output {self.path}: expected a ({h}, {w}, 3) uint8 frame, "
                               f"got {image.shape} {image.dtype}")
        if self._error is not None:
            self.abort()  # the file cannot be finished; do not leave a .partial behind
            self._raise_writer_error()
        # from_ndarray copies, so the caller may reuse its buffer at once
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = self.frames_written
        frame.time_base = self._video.codec_context.time_base
        self.frames_written += 1
        if self._queue is not None:
            self._queue.put(frame)
        else:
            self._encode(frame)

    def _encode(self, frame: av.VideoFrame) -> None:
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        if self._audio_in is not None:
            self._audio_until(frame.pts + 1)

    def _writer(self) -> None:
        assert self._queue is not None
        while (frame := self._queue.get()) is not None:
            if self._error is None:  # after a failure keep draining, so write() never blocks on a full queue
                try:
                    self._encode(frame)
                except BaseException as exc:  # handed to the caller's thread by the next write/close
                    self._error = exc

    def _stop_writer(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            raise PerformError(f"video output {self.path}: encoding failed: {self._error}") from self._error

    @property
    def duration_s(self) -> float:
        return float(self.frames_written / self.fps)

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise PerformError(f"video output {self.path}: no frames were written; nothing saved")
        try:
            self._stop_writer()
            self._raise_writer_error()
            for packet in self._video.encode(None):
                self._out.mux(packet)
            if self._audio_in is not None:
                self._audio_until(self.frames_written, final=True)
            self._out.close()
            self._close_audio_input()
            os.replace(self.partial_path, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        log.info("wrote %s: %d frames, %.2f s at %s fps", self.path, self.frames_written, self.duration_s, self.fps)
        return self.path

    def abort(self) -> None:
        """Stop and delete what was written; the final path is never created."""
        self._closed = True
        self._stop_writer()
        try:
            self._out.close()
        except Exception:  # closing a half-written container can fail; the file is deleted either way
            log.debug("closing aborted video %s failed", self.partial_path, exc_info=True)
        self._close_audio_input()
        self.partial_path.unlink(missing_ok=True)

    def __enter__(self) -> "VideoFileOutput":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- audio ----------------------------------------------------------------------------------------------------

    def _open_audio(self, audio_path: Path) -> None:
        try:
            self._audio_in = av.open(str(audio_path))
        except (OSError, av.FFmpegError) as exc:
            raise PerformError(f"cannot read audio file {audio_path}: {exc}") from exc
        if not self._audio_in.streams.audio:
            raise PerformError(f"audio file {audio_path} has no audio stream")
        self._audio = self._out.add_stream("aac", rate=AUDIO_RATE)
        self._audio.codec_context.layout = "stereo"
        self._audio.codec_context.format = "fltp"
        self._audio.bit_rate = 192_000
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self._fifo = av.AudioFifo()
        self._decoded: Iterator[av.AudioFrame] | None = self._decode(self._audio_in)
        self._audio_samples = 0

    def _decode(self, container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
        for frame in container.decode(audio=0):
            yield from self._resampler.resample(frame)
        yield from self._resampler.resample(None)

    def _audio_until(self, frames: int, final: bool = False) -> None:
        """Encode audio up to the end of video frame `frames` (sample-exact), so the two stay interleaved."""
        target = int(round(frames * AUDIO_RATE / self.fps))
        while self._audio_samples < target:
            need = target - self._audio_samples
            while self._fifo.samples < need and self._decoded is not None:
                try:
                    chunk = next(self._decoded)
                except StopIteration:
                    self._decoded = None  # the audio is shorter than the video: silence after it
                    break
                chunk.pts = None  # the fifo re-times what it hands out
                self._fifo.write(chunk)
                if self._audio_skip:
                    dropped = min(self._audio_skip, self._fifo.samples)
                    self._fifo.read(dropped)
                    self._audio_skip -= dropped
            if self._fifo.samples == 0:
                break
            out = self._fifo.read(min(need, self._fifo.samples))
            out.pts = self._audio_samples
            out.time_base = Fraction(1, AUDIO_RATE)
            self._audio_samples += out.samples
            for packet in self._audio.encode(out):
                self._out.mux(packet)
        if final:
            for packet in self._audio.encode(None):
                self._out.mux(packet)

    def _close_audio_input(self) -> None:
        if self._audio_in is not None:
            self._decoded = None
            self._audio_in.close()
            self._audio_in = None
