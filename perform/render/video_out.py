"""The one H.264 writer (PyAV): a rehearsal's render, frame-exact, with optional audio; a show's recording, kill-safe.

A recording (session crops and camera video) is fragmented MP4, one fragment a frame, with x264's zero-latency
tuning (no frames held back for look-ahead or B-frames): everything up to the last `flush()` is on disk and
decodes, even when the process is killed or the power goes before the file is closed. A plain MP4 writes its
index at the end and is unreadable without it. Measured with PyAV on a killed writer: plain MP4 0 of 90 frames
decodable; this format 89 of 90 (the last frame's fragment is written when the next begins), and a file cut at
any byte gives the frames before the cut.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from perform.errors import PerformError
from perform.render.yuv import i420_shape, rgb_to_i420

log = logging.getLogger(__name__)

_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
AUDIO_RATE = 48_000
_MS = Fraction(1, 1000)
_RENDER_BUFFERS = 4  # frames a render's writer thread may be behind (about 2.8 MB each at 720p)
# empty_moov: the header goes first; frag_every_frame: each frame is complete on disk once written;
# default_base_moof: what browsers and QuickTime expect of fragments
_FRAGMENTED = {"movflags": "empty_moov+default_base_moof+frag_keyframe+frag_every_frame", "flush_packets": "1"}


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

    A render (the default): frame n has pts n in a time base of 1/fps, so it shows at exactly n/fps. The file is
    written to `PATH.partial` and renamed to PATH by `close()`; `abort()` (or leaving a `with` block by an
    exception) removes it, so an interrupted render never leaves a file that looks complete. With `audio_path`,
    that file's first audio stream is decoded, re-encoded to AAC alongside the frames and trimmed to the video's
    length. Problems with the path or the audio raise PerformError here, before any rendering. Frames are turned
    into yuv420p by OpenCV (`render/yuv.py`), not by FFmpeg's slower swscale. With `threaded` (the default) the
    conversion and x264 run on a writer thread (both release the GIL): `write()` copies the frame into one of a
    few preallocated buffers and returns, blocking only when the writer is that many frames behind (memory stays
    flat); order, timestamps and output are the same as without it. `x264_threads` (0: x264's own choice);
`on_encoded(ms)` is told each render frame's conversion + encoding time (on the writer thread when threaded).

    `recording=True` (a session's videos, written during a show): fragmented MP4 written in place under PATH,
    x264 on one thread with zero latency, `flush()` puts every frame so far on disk; frames may carry their own
    time (`t_ms`, a camera's variable rate) and any size (resized; odd sizes lose a last row or column).
    Errors are the file system's or FFmpeg's (OSError, av.FFmpegError), for the recorder to report; `abort()`
    keeps what is on disk (a partial recording still replays).
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: float | Fraction = 30,
                 audio_path: str | os.PathLike | None = None, crf: int = 18, preset: str = "veryfast",
                 audio_offset_s: float = 0.0, threaded: bool | None = None, recording: bool = False,
                 x264_threads: int = 0, on_encoded: Callable[[float], None] | None = None) -> None:
        self.path = Path(path)
        self.recording = recording
        self.partial_path = self.path if recording else self.path.with_name(self.path.name + ".partial")
        self.frames_written = 0
        self._last_pts = -1
        self._error: BaseException | None = None
        self._queue: queue.Queue | None = None  # work for the writer thread; None ends it
        self._free: queue.Queue[np.ndarray] | None = None  # a render's frame buffers the writer has finished with
        self._yuv: np.ndarray | None = None
        self._on_encoded = on_encoded
        self._abandoned = False
        self._thread: threading.Thread | None = None
        self._audio_in: av.container.InputContainer | None = None
        self._file = None
        if recording:
            w, h = int(size[0]), int(size[1])
            if w < 2 or h < 2:
                raise ValueError(f"video size {size} too small")
            self.size = (w - w % 2, h - h % 2)  # yuv420p needs even sizes: drop a last odd row/column, not scale
            self.fps = Fraction(fps).limit_denominator(1001)
            self._open_recording(crf, preset)
        else:
            self.size = (int(size[0]), int(size[1]))
            self.fps = as_fps(fps)
            self._open_render(audio_path, crf, preset, audio_offset_s, x264_threads)
            self._yuv = np.empty(i420_shape(*self.size), np.uint8)
        self._closed = False
        if threaded if threaded is not None else not recording:
            # back-pressure: a slow encoder slows the caller and memory stays flat (a render's write() waits for a
            # free buffer, a recording's for room in the queue)
            self._queue = queue.Queue(maxsize=4 if recording else 0)
            if not recording:
                self._free = queue.Queue()
                for _ in range(_RENDER_BUFFERS):
                    self._free.put(np.empty((self.size[1], self.size[0], 3), np.uint8))
            self._thread = threading.Thread(target=self._writer, name="video-writer", daemon=True)
            self._thread.start()

    def _open_recording(self, crf: int, preset: str) -> None:
        self._file = open(self.path, "wb")  # ours, so that flush() can fsync it
        try:
            self._out = av.open(self._file, "w", format="mp4", options=dict(_FRAGMENTED))
        except BaseException:
            self._file.close()
            raise
        try:
            self._video = self._out.add_stream("libx264", rate=self.fps)
            self._video.width, self._video.height = self.size
            self._video.pix_fmt = "yuv420p"
            self._video.options = {"crf": str(crf), "preset": preset, "tune": "zerolatency"}
            self._video.codec_context.time_base = _MS
            # one thread: on a 2-core laptop the show needs the other core more than the recording does
            self._video.codec_context.thread_count = 1
        except BaseException:
            self._out.close()
            self._file.close()
            raise

    def _open_render(self, audio_path, crf: int, preset: str, audio_offset_s: float, x264_threads: int) -> None:
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
            self._video.codec_context.thread_count = int(x264_threads)
            if audio_path is not None:
                self._open_audio(Path(audio_path))
                # a render that starts at --from S takes the track from S, so picture and sound stay in sync
                self._audio_skip = int(round(max(0.0, audio_offset_s) * AUDIO_RATE))
        except BaseException:
            self.abort()
            raise

    # -- writing --------------------------------------------------------------------------------------------------

    def write(self, image: np.ndarray, t_ms: int | None = None) -> bool:
        """Append one frame (H, W, 3) uint8, top row first: at frames_written / fps, or (a recording) at t_ms.
        Returns False when a recording's frame is not after the last one (it is skipped)."""
        w, h = self.size
        if self.recording:
            image = self._fit(image)
            pts = int(t_ms) if t_ms is not None else round(self.frames_written * 1000 / self.fps)
            if pts <= self._last_pts:
                if t_ms is not None:
                    return False
                pts = self._last_pts + 1
        else:
            if image.shape != (h, w, 3) or image.dtype != np.uint8:
                raise PerformError(f"video output {self.path}: expected a ({h}, {w}, 3) uint8 frame, "
                                   f"got {image.shape} {image.dtype}")
            pts = self.frames_written
        if self._error is not None:
            self.abort()  # the file cannot be finished; do not leave a .partial behind
            self._raise_writer_error()
        self._last_pts = pts
        self.frames_written += 1
        if self.recording:
            # from_ndarray copies, so the caller may reuse its buffer at once
            frame = self._stamped(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24"), pts)
            if self._queue is not None:
                self._queue.put(frame)
            else:
                self._encode(frame)
        elif self._free is not None:
            buffer = self._free.get()  # waits while the writer is _RENDER_BUFFERS frames behind
            np.copyto(buffer, image)  # the caller may reuse its buffer (a presenter's readback) at once
            self._queue.put((buffer, pts))
        else:
            self._convert_and_encode(image, pts)
        return True

    def _stamped(self, frame: av.VideoFrame, pts: int) -> av.VideoFrame:
        frame.pts = pts
        frame.time_base = self._video.codec_context.time_base
        return frame

    def _convert_and_encode(self, rgb: np.ndarray, pts: int) -> None:
        """A render's frame, as yuv420p: the encoder's own format, so PyAV does not convert it again."""
        t0 = time.perf_counter()
        rgb_to_i420(rgb, out=self._yuv)
        frame = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")  # a copy: self._yuv is reused at once
        self._encode(self._stamped(frame, pts))
        if self._on_encoded is not None:
            self._on_encoded((time.perf_counter() - t0) * 1000.0)

    def _fit(self, rgb: np.ndarray) -> np.ndarray:
        """A recording's frame at the file's size (the camera may change mode): trimmed by a row or column, or resized."""
        w, h = self.size
        img = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
        if img.shape[:2] != (h, w):
            if img.shape[0] >= h and img.shape[1] >= w and img.shape[0] - h <= 1 and img.shape[1] - w <= 1:
                img = np.ascontiguousarray(img[:h, :w])
            else:
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        return img

    def flush(self) -> None:
        """A recording: put every frame muxed so far on disk (the muxer hands each fragment to the file as it ends)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def _encode(self, frame: av.VideoFrame) -> None:
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        if self._audio_in is not None:
            self._audio_until(frame.pts + 1)

    def _writer(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            # after a failure keep draining (and freeing buffers), so write() never blocks for good
            try:
                if isinstance(item, av.VideoFrame):  # a recording's frame
                    if self._error is None:
                        self._encode(item)
                    continue
                buffer, pts = item
                try:
                    if self._error is None and not self._abandoned:  # an aborted render's frames are thrown away
                        self._convert_and_encode(buffer, pts)
                finally:
                    self._free.put(buffer)
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
        """Finish the file (a render: and move it into place); returns its path."""
        if self._closed:
            return self.path
        if self.recording:
            self._closed = True
            self._stop_writer()
            try:
                self._raise_writer_error()
                for packet in self._video.encode(None):
                    self._out.mux(packet)
            finally:
                try:
                    self._out.close()
                finally:
                    self._file.close()
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
        """Stop without finishing, ignoring errors. A render deletes what was written (the final path is never
        created); a recording keeps it (everything up to its last flush replays)."""
        self._closed = True
        self._abandoned = not self.recording
        self._stop_writer()
        closers = [self._out.close] + ([self._file.close] if self._file is not None else [])
        for closer in closers:
            try:
                closer()
            except Exception:  # closing a half-written container can fail; its error was already reported
                log.debug("closing aborted video %s failed", self.partial_path, exc_info=True)
        self._close_audio_input()
        if not self.recording:
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
