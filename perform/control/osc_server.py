"""OSCServer: one thread receives UDP datagrams, decodes them (osc_codec), routes them (osc_routes), and
posts ControlEvents.

Nothing else happens on that thread: no GL, no torch, no sleeping until a bundle's timetag (python-osc's
Dispatcher does that; the codec puts timetags on the engine's clock and ControlState schedules them,
bounded). Every bad datagram is counted by kind and dropped; no exception
leaves the thread. UDP only (OSC 1.0); TCP/SLIP is not supported.
"""

from __future__ import annotations

import ipaddress
import logging
import select
import socket
import threading
import time
from typing import Iterable

from perform.control.events import ControlEvent
from perform.control.osc_codec import MalformedPacket, decode_datagram, encode_message
from perform.control.osc_routes import Ignored, Rejected, Router, is_value
from perform.control.state import ControlState
from perform.errors import ErrorReporter

log = logging.getLogger(__name__)

REPLY_PREFIX = "/perform/reply"
REPLY_POLICIES = ("commands", "all", "errors", "none")


class _Allow:
    """Sender allow-list of hosts or networks ('192.168.1.20', '192.168.1.0/24'); None allows all."""

    def __init__(self, allow: Iterable[str] | None) -> None:
        self.nets = None if allow is None else [ipaddress.ip_network(a, strict=False) for a in allow]
        self._cache: dict[str, bool] = {}

    def __call__(self, host: str) -> bool:
        if self.nets is None:
            return True
        ok = self._cache.get(host)
        if ok is None:
            try:
                ip = ipaddress.ip_address(host)
                ok = any(ip in n for n in self.nets)
            except ValueError:
                ok = False
            if len(self._cache) < 4096:
                self._cache[host] = ok
        return ok


class OSCServer:
    """Receives OSC on UDP `host:port` (port 0 picks a free one; see `.port`) into `state`.

    Args:
        state: where events go; its clock stamps arrivals and schedules bundle timetags.
        allow: sender hosts/networks allowed; None allows any (with loopback binding, only this machine).
        router: the address table with the engine's declared context; a fresh one if None.
        reply: which messages get a /perform/reply/<address> answer sent back to the sender:
            'commands' (default: ok/error for commands, error only for values), 'all', 'errors', 'none'.
        reply_port: send replies to this port on the sender's host instead of its source port.
        max_replies_per_s: replies beyond this are not sent (a flood must not be echoed back).
        engine_answers: command addresses the engine answers itself, through `reply` (ENGINE_ANSWERED when
            an engine is attached): the server sends them no 'ok', so each gets exactly one reply.
    """

    def __init__(self, state: ControlState, host: str = "127.0.0.1", port: int = 9000, allow: Iterable[str] | None = None,
                 *, router: Router | None = None, reply: str = "commands", reply_port: int | None = None,
                 max_replies_per_s: float = 200.0, engine_answers: Iterable[str] = ()) -> None:
        if reply not in REPLY_POLICIES:
            raise ValueError(f"reply policy {reply!r}: expected one of {REPLY_POLICIES}")
        self.state = state
        self.counters = state.counters
        self.router = router or Router()
        self.host = host
        self._allow = _Allow(allow)
        self._reply = reply
        self._reply_port = reply_port
        self._engine_answers = frozenset(engine_answers)
        self._reply_rate = float(max_replies_per_s)
        self._reply_tokens = self._reply_rate
        self._reply_t = time.monotonic()
        self._errors = ErrorReporter(log)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # absorb bursts
        except OSError:
            pass
        try:
            self._sock.bind((host, port))
        except OSError as e:
            self._sock.close()
            raise OSError(e.errno, f"cannot listen for OSC on {host}:{port}: {e.strerror}") from None
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]
        if not _is_loopback(host):
            log.warning("OSC listening on %s:%d: reachable from the network; allowed senders: %s",
                        host, self.port, "any" if allow is None else ", ".join(allow))

    # ---- lifecycle ----

    def start(self) -> "OSCServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"osc-in:{self.port}", daemon=True)
            self._thread.start()
            log.info("OSC listening on %s:%d", self.host, self.port)
        return self

    def close(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("OSC thread did not stop within %.1f s", timeout_s)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> "OSCServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the thread ----

    def _run(self) -> None:
        sock = self._sock
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([sock], [], [], 0.1)
                if not ready:
                    continue
                for _ in range(1024):  # a bounded burst, then look at the stop flag again
                    try:
                        data, sender = sock.recvfrom(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except ConnectionResetError:  # Windows reports an earlier send's ICMP here
                        continue
                    self.handle_datagram(data, sender)
            except Exception as e:  # the thread must outlive anything a datagram can do
                if self._stop.is_set():
                    break
                self._errors.report("OSC receive loop", e)
                time.sleep(0.01)

    def handle_datagram(self, data: bytes, sender: tuple[str, int], now_s: float | None = None) -> int:
        """Parse, route and post one datagram; returns how many events were accepted."""
        self.counters.add("received")
        host = sender[0]
        if not self._allow(host):
            self.counters.drop("not_allowed", f"datagram from {host} (not in the allow-list)")
            return 0
        now_s = self.state.now() if now_s is None else now_s
        try:
            messages = decode_datagram(data, now_s, time.time())
        except MalformedPacket as e:
            self.counters.drop("malformed", f"{len(data)}-byte datagram from {host}: {e}")
            return 0
        reply_to = (host, self._reply_port or sender[1])
        accepted = 0
        for m in messages:
            t_s, address, args = m.t_s, m.address, m.args
            try:
                events = self.router.route(address, args, t_s, "osc", reply_to)
            except Ignored:
                self.counters.add("ignored")
                continue
            except Rejected as r:
                self.counters.drop(r.kind, r.detail)
                self._send_reply(reply_to, address, False, f"{r.kind}: {r.detail}")
                continue
            for e in events:
                if self.state.post(e, now_s):
                    accepted += 1
                    if e.address in self._engine_answers:
                        pass  # the engine replies once it has applied it (or could not)
                    elif self._reply == "all" or (self._reply == "commands" and not is_value(e.address)):
                        self._send_reply(reply_to, e.address, True)
                else:
                    self._send_reply(reply_to, e.address, False, "not scheduled (too far ahead or queue full)")
        return accepted

    # ---- replies ----

    def reply(self, event: ControlEvent, ok: bool, reason: str = "") -> None:
        """Answer a command the engine applied (or could not): /perform/reply/<address> 'ok' | 'error', reason.
        Safe from any thread; never raises."""
        if event.reply_to is not None:
            self._send_reply(event.reply_to, event.address, ok, reason)

    def _send_reply(self, to: tuple[str, int], address: str, ok: bool, reason: str = "") -> None:
        if self._reply == "none" or (ok and self._reply == "errors"):
            return
        t = time.monotonic()
        self._reply_tokens = min(self._reply_rate, self._reply_tokens + (t - self._reply_t) * self._reply_rate)
        self._reply_t = t
        if self._reply_tokens < 1.0:
            self.counters.add("replies_suppressed")
            return
        self._reply_tokens -= 1.0
        path = address if address.startswith("/") else "/" + address
        args = ("ok",) if ok else ("error", reason[:200])
        try:
            self._sock.sendto(encode_message(REPLY_PREFIX + path, args), to)
            self.counters.add("replies")
        except Exception as e:  # buffer full, no route, closed socket: a reply is never worth a crash
            self.counters.drop("send_failed", f"reply to {to[0]}:{to[1]}: {e}")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
