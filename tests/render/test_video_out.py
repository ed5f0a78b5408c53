"""Video files written through PyAV decode back with the frames, rate and audio they were given."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from perform.errors import PerformError
from perform.render.video_out import VideoFileOutput, as_fps


def _sine_wav(path, seconds: float, rate: int = 44_100) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        samples = (np.sin(2 * np.pi * 440 * t) * 12_000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _frames(n: int, w: int = 64, h: int = 48):
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, : (i * 4) % w] = 255  # a bar that grows: frames differ, and in order
        img[: h // 2, :, 1] = 128
        yield img


@pytest.mark.parametrize("threaded", [True, False])
def test_video_decodes_back_with_frame_count_size_fps_and_audio(tmp_path, threaded):
    wav = tmp_path / "tone.wav"
    _sine_wav(wav, 2.0)  # longer than the video: must be trimmed
    path = tmp_path / "show.mp4"
    with VideoFileOutput(path, (64, 48), fps=30, audio_path=wav, threaded=threaded) as out:
        for img in _frames(15):
            out.write(img)
        assert not path.exists() and out.partial_path.exists()
    assert path.exists() and not out.partial_path.exists()

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (64, 48)
        assert v.average_rate == 30
        assert c.streams.audio, "no audio stream"
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac"
        decoded = list(c.decode(video=0))
        assert len(decoded) == 15
        assert [round(float(f.time) * 30) for f in decoded] == list(range(15))  # frame n at n/fps
        top = decoded[0].to_ndarray(format="rgb24")
        assert abs(int(top[5, 40, 1]) - 128) < 12 and top[40, 40, 1] < 12  # top row first, not flipped
    with av.open(str(path)) as c:
        audio_s = sum(f.samples for f in c.decode(audio=0)) / c.streams.audio[0].rate
    assert 0.45 < audio_s < 0.6, audio_s  # trimmed to the 0.5 s of video (+ AAC padding)


def test_abort_leaves_no_file(tmp_path):
    path = tmp_path / "half.mp4"
    with pytest.raises(RuntimeError):
        with VideoFileOutput(path, (32, 32), fps=25) as out:
            for img in _frames(3, 32, 32):
                out.write(img)
            raise RuntimeError("render interrupted")
    assert list(tmp_path.iterdir()) == []


def test_bad_paths_and_sizes_fail_before_rendering(tmp_path):
    with pytest.raises(PerformError, match="no_such_folder"):
        VideoFileOutput(tmp_path / "no_such_folder" / "x.mp4", (32, 32))
    with pytest.raises(PerformError, match="even"):
        VideoFileOutput(tmp_path / "x.mp4", (33, 32))
    with pytest.raises(PerformError, match="extension"):
        VideoFileOutput(tmp_path / "x.avi2", (32, 32))
    with pytest.raises(PerformError, match="cannot read audio file"):
        VideoFileOutput(tmp_path / "x.mp4", (32, 32), audio_path=tmp_path / "missing.wav")
    assert list(tmp_path.iterdir()) == []
    out = VideoFileOutput(tmp_path / "x.mp4", (32, 32))
    with pytest.raises(PerformError, match=r"expected a \(32, 32, 3\) uint8"):
        out.write(np.zeros((16, 16, 3), np.uint8))
    out.abort()


def test_frame_rates_are_exact_fractions():
    assert as_fps(29.97) == Fraction(30000, 1001)
    assert as_fps(30) == 30 and as_fps(12.5) == Fraction(25, 2)
    with pytest.raises(PerformError):
        as_fps(0)


def test_an_encoder_failure_surfaces_on_the_callers_thread_and_leaves_no_file(tmp_path):
    path = tmp_path / "x.mp4"
    out = VideoFileOutput(path, (32, 32), fps=30)

    def broken(frame):
        raise RuntimeError("disk full")

    out._encode = broken  # what a failing muxer looks like from the writer thread
    with pytest.raises(PerformError, match="encoding failed: disk full"):
        for img in _frames(20, 32, 32):
            out.write(img)
        out.close()
    assert not path.exists() and not out.partial_path.exists()


def test_audio_offset_takes_the_track_from_that_time(tmp_path):
    rate = 44100
    t = np.arange(2 * rate) / rate
    samples = np.where(t < 1.0, 0.0, 0.5 * np.sin(2 * np.pi * 440 * t))  # silent second, then a tone
    track = tmp_path / "track.wav"
    with av.open(str(track), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray((samples * 32767).astype(np.int16)[None, :], format="s16", layout="mono")
        frame.rate = rate
        for p in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(p)

    def first_half_second_rms(offset_s: float) -> float:
        path = tmp_path / f"v{offset_s}.mp4"
        with VideoFileOutput(path, (32, 32), 10, audio_path=track, audio_offset_s=offset_s) as v:
            for _ in range(10):
                v.write(np.zeros((32, 32, 3), np.uint8))
        with av.open(str(path)) as c:
            audio = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
        return float(np.sqrt(np.mean(audio[: len(audio) // 4] ** 2)))

    assert first_half_second_rms(0.0) < 0.01  # from the start: the silent second
    assert first_half_second_rms(1.0) > 0.1   # from 1 s: the tone at once


@pytest.mark.parametrize("threaded", [True, False])
def test_a_render_looks_like_one_converted_by_ffmpeg_and_the_caller_may_reuse_its_buffer(tmp_path, threaded):
    import cv2

    from perform.resources import REPO_ROOT

    w, h, n = 192, 108, 12
    photo = cv2.resize(cv2.imread(str(REPO_ROOT / "perform" / "assets" / "astronaut.jpg")), (w, h))[..., ::-1]
    sources = [np.ascontiguousarray(np.roll(photo, 8 * i, axis=1)) for i in range(n)]  # every frame differs
    path = tmp_path / "ours.mp4"
    buffer = np.empty((h, w, 3), np.uint8)  # one buffer, overwritten at once: as a presenter's readback is
    with VideoFileOutput(path, (w, h), fps=30, threaded=threaded) as out:
        for src in sources:
            buffer[:] = src
            out.write(buffer)
            buffer[:] = 0
    # the old path: PyAV's rgb24 frames converted by FFmpeg, same encoder settings
    old = tmp_path / "old.mp4"
    with av.open(str(old), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "18", "preset": "veryfast"}
        for i, src in enumerate(sources):
            f = av.VideoFrame.from_ndarray(src, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)

    def psnrs(p):
        with av.open(str(p)) as c:
            frames = [f.to_ndarray(format="rgb24").astype(float) for f in c.decode(video=0)]
        assert len(frames) == n and frames[0].shape == (h, w, 3)
        return [10 * np.log10(255 ** 2 / np.mean((f - s) ** 2)) for f, s in zip(frames, sources)]

    ours, theirs = psnrs(path), psnrs(old)
    assert min(ours) > 30  # each frame is its own source, in order (a reused buffer would show zeros or a neighbour)
    assert np.mean(ours) > np.mean(theirs) - 0.5, (np.mean(ours), np.mean(theirs))
