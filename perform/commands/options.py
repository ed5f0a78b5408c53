"""Option types shared by the subcommands: each refuses a bad value as a usage error naming it.

argparse turns an ArgumentTypeError into `perform CMD: error: argument --opt: MESSAGE` and exit status 2,
before anything starts (no window, no socket, no model loaded). One validator per kind of value, so every
command that takes a port, a frame rate or an output file refuses the same things in the same words.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import Callable

MAX_FPS = 240.0  # above any display or camera a show meets; a typo (1000) would only burn the CPU


def parse_size(text: str) -> tuple[int, int]:
    """A WIDTHxHEIGHT option."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT, e.g. 1280x720") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be between 16 and 16384")
    return w, h


def number(lo: float, hi: float = math.inf, *, above: bool = False, what: str = "a number") -> Callable[[str], float]:
    """A finite float in [lo, hi] (or (lo, hi] with `above`)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what}") from None
        low_ok = v > lo if above else v >= lo
        if not math.isfinite(v) or not low_ok or v > hi:
            bound = f"above {lo:g}" if above else f"at least {lo:g}"
            if math.isfinite(hi):
                bound += f" and at most {hi:g}"
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what} {bound}")
        return v

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def integer(lo: int, hi: int, *, what: str = "a whole number") -> Callable[[str], int]:
    """An int in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what} from {lo} to {hi}")
        return v

    parse.__name__ = what
    return parse


seconds = number(0.0, what="a time in seconds")               # --from, a start time
duration = number(0.0, above=True, what="a time in seconds")  # --to, --every, --seconds
fps = number(0.0, MAX_FPS, above=True, what="a frame rate")
fps_or_unpaced = number(0.0, MAX_FPS, what="a frame rate (0 = unpaced)")
port_or_off = integer(0, 65535, what="a UDP port (0 = off)")
port = integer(1, 65535, what="a UDP port")


def host_port(text: str) -> tuple[str, int]:
    """HOST:PORT (an empty host is 127.0.0.1), e.g. for --osc-out."""
    host, sep, port_ = text.rpartition(":")
    if not sep or not port_.isdigit() or not 1 <= int(port_) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:9001")
    return host or "127.0.0.1", int(port_)


def local_address(text: str) -> str:
    """An address this machine can listen on: 127.0.0.1, 0.0.0.0 (every interface) or one of its own."""
    try:
        infos = socket.getaddrinfo(text, 0, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError):
        raise argparse.ArgumentTypeError(f"{text!r}: not an IP address or a known host name") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.bind(addr[:2] if family == socket.AF_INET else addr)
        except OSError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an address of this machine; use 127.0.0.1 (this machine only), "
                "0.0.0.0 (every network interface) or one of this machine's own addresses") from None
    return text


def device(text: str) -> str:
    """A torch device that exists here: auto, cpu, cuda, cuda:N, mps."""
    if text in ("auto", "cpu"):
        return text  # no torch import for the common case (keeps --help and parsing fast)
    # start-up: `perform --help` imports every command module; torch only when this runs
    from perform.nets.device import check_device

    try:
        check_device(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def output_file(text: str) -> str:
    """A file that can be written: not a folder, in a folder that exists and takes new files (tried, not guessed:
    permission bits say nothing on a read-only mount or for root)."""
    path = Path(text).expanduser()
    if path.is_dir() or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name, e.g. {Path(text) / 'out.mp4'}")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: folder {str(folder)!r} does not exist; create it first")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".perform-write-test-"):
            pass
    except OSError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: cannot write in folder {str(folder)!r} ({e.strerror}); "
                                         "choose a folder you can write to") from None
    return text


def osc_bind_problem(exc: OSError, host: str, port_: int, port_option: str = "--osc-port",
                     host_option: str = "--osc-host") -> str:
    """What went wrong binding the OSC socket, and what to do, naming the options."""
    if exc.errno == errno.EADDRINUSE:
        return (f"{port_option} {port_}: UDP port {port_} on {host} is already in use by another program "
                f"(another perform?); stop that program, or choose a free port with {port_option} N")
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return f"{host_option} {host}: not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own"
    if exc.errno == errno.EACCES:
        return f"{port_option} {port_}: not allowed to listen on port {port_} here; choose one above 1023"
    return f"cannot listen for OSC on {host}:{port_} ({exc.strerror or exc}); try another {port_option}"
