"""The outputs a show asked for (--out-stream, --out-vcam, --out-ndi, --out-spout, --out-syphon), made into sinks."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from perform.errors import PerformError
from perform.outputs.hub import FrameSink


@dataclass(frozen=True)
class OutputOptions:
    stream: tuple[str, ...] = ()
    vcam: str | None = None  # "" for the default device
    ndi: tuple[str, ...] = ()
    spout: tuple[str, ...] = ()
    syphon: tuple[str, ...] = ()
    extra: tuple = field(default=(), compare=False)  # sinks made by the caller (tests, benchmarks)

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "OutputOptions":
        return cls(stream=tuple(getattr(a, "out_stream", None) or ()), vcam=getattr(a, "out_vcam", None),
                   ndi=tuple(getattr(a, "out_ndi", None) or ()), spout=tuple(getattr(a, "out_spout", None) or ()),
                   syphon=tuple(getattr(a, "out_syphon", None) or ()))

    def __bool__(self) -> bool:
        return bool(self.stream or self.vcam is not None or self.ndi or self.spout or self.syphon or self.extra)


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("video out (several at once; each sends off the render thread, never stalling it)")
    g.add_argument("--out-stream", action="append", default=[], metavar="URL",
                   help="H.264 in MPEG-TS to this URL, e.g. udp://127.0.0.1:5000 (ffplay, VLC, OBS, TouchDesigner)")
    g.add_argument("--out-vcam", nargs="?", const="", default=None, metavar="DEVICE",
                   help="a virtual camera (pyvirtualcam: v4l2loopback on Linux, OBS on Windows/macOS)")
    g.add_argument("--out-ndi", action="append", default=[], metavar="NAME", help="an NDI source with this name (cyndilib)")
    g.add_argument("--out-spout", action="append", default=[], metavar="NAME", help="a Spout sender (Windows; SpoutGL)")
    g.add_argument("--out-syphon", action="append", default=[], metavar="NAME", help="a Syphon server (macOS; syphon-python)")


def make_sinks(opt: OutputOptions, size: tuple[int, int], fps: float) -> list[FrameSink]:
    """One sink per output asked for; a missing package or the wrong OS is a PerformError now, before the show."""
    # here, not at the top: the CLI imports this module for --help, and PyAV is only wanted when a show streams
    from perform.outputs.optional import NDISink, SpoutSink, SyphonSink, VirtualCameraSink
    from perform.outputs.stream import StreamSink

    sinks: list[FrameSink] = []
    for url in opt.stream:
        if "://" not in url:
            raise PerformError(f"--out-stream {url!r}: expected a URL such as udp://127.0.0.1:5000")
        sinks.append(StreamSink(url, size, fps))
    if opt.vcam is not None:
        sinks.append(VirtualCameraSink(size, fps, opt.vcam or None))
    sinks += [NDISink(name, size, fps) for name in opt.ndi]
    sinks += [SpoutSink(name, size) for name in opt.spout]
    sinks += [SyphonSink(name, size) for name in opt.syphon]
    return sinks + list(opt.extra)
