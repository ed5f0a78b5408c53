"""A network stream: H.264 in MPEG-TS over UDP (PyAV), which ffplay, VLC, OBS (Media Source) and TouchDesigner
(Video Stream In) play. x264 tuned for latency: no B-frames, no look-ahead, a keyframe every second so a
receiver that joins (or comes back) has a picture within a second; SPS/PPS travel with every keyframe."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np

from perform.outputs.frames import fit
from perform.render.yuv import i420_shape, rgb_to_i420

TS_PACKET = 1316  # 7 TS packets of 188 bytes: one UDP datagram under any Ethernet MTU


def stream_url(url: str) -> str:
    """udp://HOST:PORT with the datagram size set (unless given); other URLs FFmpeg knows pass through."""
    if url.startswith("udp://") and "pkt_size" not in url:
        url += ("&" if "?" in url else "?") + f"pkt_size={TS_PACKET}"
    return url


class StreamSink:
    """Args: url (udp://127.0.0.1:5000), size (W, H) even, fps: the stream's nominal rate; frames are stamped by
    when they come (a frame the show dropped leaves a gap, it does not slow the stream's clock)."""

    def __init__(self, url: str, size: tuple[int, int], fps: float, crf: int = 23, bitrate_kbps: int = 8000,
                 clock=time.perf_counter) -> None:
        self.url = stream_url(url)
        self.name = f"stream {url}"
        w, h = int(size[0]), int(size[1])
        self.size = (w - w % 2, h - h % 2)
        self.fps = Fraction(fps).limit_denominator(1001)
        self.crf = int(crf)
        self.bitrate_kbps = int(bitrate_kbps)
        self._clock = clock
        self._out = None
        self._video = None
        self._yuv = np.empty(i420_shape(*self.size), np.uint8)
        self._t0 = 0.0
        self._pts = -1

    def open(self) -> None:
        self._out = av.open(self.url, "w", format="mpegts")
        try:
            v = self._out.add_stream("libx264", rate=self.fps)
            v.width, v.height = self.size
            v.pix_fmt = "yuv420p"
            v.codec_context.time_base = 1 / self.fps
            gop = max(1, round(float(self.fps)))
            rate = f"{self.bitrate_kbps}k"
            v.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": str(self.crf), "g": str(gop),
                         "keyint_min": str(gop), "maxrate": rate, "bufsize": rate}
            v.codec_context.thread_count = 1  # the show needs the other cores more
            self._video = v
        except BaseException:
            self._out.close()
            self._out = None
            raise
        self._t0 = self._clock()
        self._pts = -1

    def send(self, frame: np.ndarray) -> None:
        rgb_to_i420(fit(frame, self.size), out=self._yuv)
        vf = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        pts = max(self._pts + 1, round((self._clock() - self._t0) * float(self.fps)))
        self._pts = vf.pts = pts
        vf.time_base = self._video.codec_context.time_base
        for packet in self._video.encode(vf):
            self._out.mux(packet)

    def close(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        try:
            for packet in self._video.encode(None):
                out.mux(packet)
        finally:
            out.close()
