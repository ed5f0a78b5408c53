"""Helpers for output tests: a UDP receiver on 127.0.0.1 whose datagrams PyAV reads back, and sinks that misbehave."""

from __future__ import annotations

import io
import socket
import threading

import av
import numpy as np


class UDPReceiver:
    """A bound UDP socket on 127.0.0.1 (ready before anything is sent); `frames()` decodes what came with PyAV."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"udp://127.0.0.1:{self.port}"
        self.datagrams: list[bytes] = []

    def drain(self) -> None:
        """Everything delivered so far (a local sendto has put it in this socket's buffer by the time it returns)."""
        self.sock.setblocking(False)
        while True:
            try:
                self.datagrams.append(self.sock.recv(65536))
            except BlockingIOError:
                return

    def frames(self) -> list[np.ndarray]:
        self.drain()
        with av.open(io.BytesIO(b"".join(self.datagrams)), format="mpegts") as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    def close(self) -> None:
        self.sock.close()


class BlockingSink:
    """An output stuck in its driver: send() waits until released."""

    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.sent: list[np.ndarray] = []

    def open(self) -> None:
        pass

    def send(self, frame: np.ndarray) -> None:
        self.entered.set()
        self.release.wait(30.0)
        self.sent.append(frame)

    def close(self) -> None:
        pass
