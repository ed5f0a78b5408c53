"""Outputs that need an optional package, or an operating system: imported only when asked for.

- virtual camera: pyvirtualcam (`pip install 'perform-av[vcam]'`); v4l2loopback on Linux, OBS's virtual camera
  on Windows and macOS. Tested only for its clear errors here (no v4l2loopback on the test machines).
- NDI: cyndilib (`[ndi]`), whose wheels carry the NDI runtime (libndi). Sent as RGBA (the receiver converts).
- Spout (Windows): SpoutGL (`[spout]`), which needs an OpenGL context current on its thread: the sink makes its
  own (moderngl, standalone) and sends the frame as an image. Written to SpoutGL's documented API, untested here.
- Syphon (macOS): syphon-python (`[syphon]`), a Metal server fed the frame as a texture. Written to its
  documented API, untested here.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import ExitStack
from fractions import Fraction
from types import ModuleType

import moderngl
import numpy as np

from perform.errors import PerformError
from perform.outputs.frames import fit, rgba


def _require(module: str, extra: str, what: str, platform: str | None = None) -> ModuleType:
    if platform is not None and not sys.platform.startswith(platform):
        os_name = {"win32": "Windows", "darwin": "macOS"}[platform]
        raise PerformError(f"{what} exists on {os_name} only (this is {sys.platform}); "
                           "use --out-ndi or --out-stream to reach other machines")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise PerformError(f"{what} needs the {module} package: pip install 'perform-av[{extra}]' ({exc})") from None


class VirtualCameraSink:
    """A virtual webcam other programs (OBS, Zoom, a browser) open like a camera."""

    def __init__(self, size: tuple[int, int], fps: float, device: str | None = None) -> None:
        self._vcam = _require("pyvirtualcam", "vcam", "--out-vcam (a virtual camera)")
        self.name = f"vcam {device}" if device else "vcam"
        self.size, self.fps, self.device = (int(size[0]), int(size[1])), float(fps), device
        self._cam = None

    def open(self) -> None:
        try:
            self._cam = self._vcam.Camera(width=self.size[0], height=self.size[1], fps=self.fps,
                                          fmt=self._vcam.PixelFormat.RGB, device=self.device)
        except RuntimeError as exc:  # pyvirtualcam says which backend is missing
            hint = (" (Linux: sudo modprobe v4l2loopback exclusive_caps=1 card_label=perform)"
                    if sys.platform.startswith("linux") else " (install OBS Studio and start its virtual camera once)")
            raise RuntimeError(f"{exc}{hint}") from exc

    def send(self, frame: np.ndarray) -> None:
        self._cam.send(fit(frame, self.size))

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            cam.close()


class _RGBASink:
    """A sink that sends each frame as RGBA of its size to a receiver named `name`, through one buffer.

    A subclass declares what it needs and makes its sender in `_open`, registering how to release each part
    there: an open that fails half-way releases what it made, and close() releases the rest, last made first.
    """

    kind = ""                     # the name's prefix, and the pip extra that installs `package`
    package = ""
    option = ""                   # the command-line option, for the message saying what to install
    platform: str | None = None   # the sys.platform it exists on, when only one

    def __init__(self, name: str, size: tuple[int, int]) -> None:
        self._lib = _require(self.package, self.kind, self.option, platform=self.platform)
        self.sender_name, self.name, self.size = name, f"{self.kind} {name}", (int(size[0]), int(size[1]))
        self._rgba = np.empty((self.size[1], self.size[0], 4), np.uint8)
        self._opened = ExitStack()

    def _open(self, opened: ExitStack) -> None:
        raise NotImplementedError

    def open(self) -> None:
        with ExitStack() as opened:
            self._open(opened)
            self._opened = opened.pop_all()

    def _to_rgba(self, frame: np.ndarray) -> np.ndarray:
        """The frame fitted to the size, as RGBA in the sink's buffer (valid until the next call)."""
        return rgba(fit(frame, self.size), out=self._rgba)

    def close(self) -> None:
        self._opened.close()


class NDISink(_RGBASink):
    """An NDI source named `name` on the LAN (TouchDesigner's NDI In, Resolume, OBS with obs-ndi, vMix)."""

    kind, package, option = "ndi", "cyndilib", "--out-ndi (NDI)"

    def __init__(self, name: str, size: tuple[int, int], fps: float) -> None:
        super().__init__(name, size)
        self.fps = float(fps)

    def _open(self, opened: ExitStack) -> None:
        # the [ndi] extra, imported only when an NDI output opens (its import loads the NDI runtime)
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC

        vf = VideoSendFrame()
        vf.set_resolution(*self.size)
        vf.set_frame_rate(Fraction(self.fps).limit_denominator(1001))
        vf.set_fourcc(FourCC.RGBA)
        self._sender = Sender(self.sender_name, clock_video=False)  # paced by the show, not by NDI's clock
        self._sender.set_video_frame(vf)
        self._sender.open()
        opened.callback(self._sender.close)

    def send(self, frame: np.ndarray) -> None:
        self._sender.write_video(self._to_rgba(frame).reshape(-1))


class SpoutSink(_RGBASink):
    """A Spout sender (Windows): Resolume, TouchDesigner, MadMapper on the same machine, through the GPU."""

    kind, package, option, platform = "spout", "SpoutGL", "--out-spout (Spout)", "win32"

    def _open(self, opened: ExitStack) -> None:
        ctx = moderngl.create_standalone_context()  # SpoutGL shares through this thread's GL context
        opened.callback(ctx.release)
        self._sender = self._lib.SpoutSender()
        opened.callback(self._sender.releaseSender)
        self._sender.setSenderName(self.sender_name)

    def send(self, frame: np.ndarray) -> None:
        gl_rgba = 0x1908  # GL_RGBA
        if not self._sender.sendImage(self._to_rgba(frame), self.size[0], self.size[1], gl_rgba, False, 0):
            raise RuntimeError("SpoutGL sendImage failed")


class SyphonSink(_RGBASink):
    """A Syphon server (macOS): Resolume, VDMX, MadMapper, TouchDesigner on the same machine."""

    kind, package, option, platform = "syphon", "syphon", "--out-syphon (Syphon)", "darwin"

    def _open(self, opened: ExitStack) -> None:
        # the [syphon] extra (macOS only), imported only when a Syphon output opens
        from syphon.utils.numpy import copy_image_to_mtl_texture
        from syphon.utils.raw import create_mtl_texture

        self._copy = copy_image_to_mtl_texture
        self._server = self._lib.SyphonMetalServer(self.sender_name)
        opened.callback(self._server.stop)
        self._texture = create_mtl_texture(self._server.device, self.size[0], self.size[1])

    def send(self, frame: np.ndarray) -> None:
        self._copy(self._to_rgba(frame), self._texture)
        self._server.publish_frame_texture(self._texture)
