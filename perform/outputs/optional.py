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


class NDISink:
    """An NDI source named `name` on the LAN (TouchDesigner's NDI In, Resolume, OBS with obs-ndi, vMix)."""

    def __init__(self, name: str, size: tuple[int, int], fps: float) -> None:
        _require("cyndilib", "ndi", "--out-ndi (NDI)")
        self.ndi_name = name
        self.name = f"ndi {name}"
        self.size, self.fps = (int(size[0]), int(size[1])), float(fps)
        self._sender = None
        self._rgba = np.empty((self.size[1], self.size[0], 4), np.uint8)

    def open(self) -> None:
        # the [ndi] extra, imported only when an NDI output opens (its import loads the NDI runtime)
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC

        vf = VideoSendFrame()
        vf.set_resolution(*self.size)
        vf.set_frame_rate(Fraction(self.fps).limit_denominator(1001))
        vf.set_fourcc(FourCC.RGBA)
        sender = Sender(self.ndi_name, clock_video=False)  # paced by the show, not by NDI's clock
        sender.set_video_frame(vf)
        sender.open()
        self._sender = sender

    def send(self, frame: np.ndarray) -> None:
        rgba(fit(frame, self.size), out=self._rgba)
        self._sender.write_video(self._rgba.reshape(-1))

    def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()


class SpoutSink:
    """A Spout sender (Windows): Resolume, TouchDesigner, MadMapper on the same machine, through the GPU."""

    def __init__(self, name: str, size: tuple[int, int]) -> None:
        self._spout = _require("SpoutGL", "spout", "--out-spout (Spout)", platform="win32")
        self.spout_name, self.name, self.size = name, f"spout {name}", (int(size[0]), int(size[1]))
        self._sender = self._ctx = None
        self._rgba = np.empty((self.size[1], self.size[0], 4), np.uint8)

    def open(self) -> None:
        self._ctx = moderngl.create_standalone_context()  # SpoutGL shares through this thread's GL context
        self._sender = self._spout.SpoutSender()
        self._sender.setSenderName(self.spout_name)

    def send(self, frame: np.ndarray) -> None:
        rgba(fit(frame, self.size), out=self._rgba)
        gl_rgba = 0x1908  # GL_RGBA
        if not self._sender.sendImage(self._rgba, self.size[0], self.size[1], gl_rgba, False, 0):
            raise RuntimeError("SpoutGL sendImage failed")

    def close(self) -> None:
        if self._sender is not None:
            self._sender.releaseSender()
            self._sender = None
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None


class SyphonSink:
    """A Syphon server (macOS): Resolume, VDMX, MadMapper, TouchDesigner on the same machine."""

    def __init__(self, name: str, size: tuple[int, int]) -> None:
        self._syphon = _require("syphon", "syphon", "--out-syphon (Syphon)", platform="darwin")
        self.server_name, self.name, self.size = name, f"syphon {name}", (int(size[0]), int(size[1]))
        self._server = self._texture = None
        self._rgba = np.empty((self.size[1], self.size[0], 4), np.uint8)

    def open(self) -> None:
        # the [syphon] extra (macOS only), imported only when a Syphon output opens
        from syphon.utils.numpy import copy_image_to_mtl_texture
        from syphon.utils.raw import create_mtl_texture

        self._copy = copy_image_to_mtl_texture
        self._server = self._syphon.SyphonMetalServer(self.server_name)
        self._texture = create_mtl_texture(self._server.device, self.size[0], self.size[1])

    def send(self, frame: np.ndarray) -> None:
        rgba(fit(frame, self.size), out=self._rgba)
        self._copy(self._rgba, self._texture)
        self._server.publish_frame_texture(self._texture)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
