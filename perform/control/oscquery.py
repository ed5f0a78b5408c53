"""OSCQuery: the OSC address space as JSON over HTTP, advertised by mDNS (Vidvox's OSCQuery proposal).

TouchOSC, Chataigne, Max and Vezér ask `GET /` and get the tree of every address `perform` takes: its type
tags (TYPE), ranges (RANGE), current values (VALUE), what it does (DESCRIPTION) and whether it can be read
and/or written (ACCESS); `GET /perform/mix?VALUE` answers one attribute and `GET /?HOST_INFO` the OSC
port and transport. The tree comes from the route table (perform/control/osc_routes.py) and the facts of
the loaded show (`ShowFacts`: latent size, directions, shader parameters with their real ranges, mapping
inputs, scenes), which the engine replaces on every setlist reload. Values are read from the ControlState's
copy-on-write snapshots, so an OSC message shows up once the render loop has drained it.

One HTTP thread (ThreadingHTTPServer: a slow client cannot block the others) and one short-lived thread
that registers the mDNS service; a machine without multicast logs a line and the HTTP side still works.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlsplit

from perform.control.osc_routes import PREFIX, ROUTES, Route

log = logging.getLogger(__name__)

READ, WRITE = 1, 2
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "RANGE", "VALUE", "DESCRIPTION", "ACCESS")
EXTENSIONS = {"ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TYPE": True,
              "TAGS": False, "CLIPMODE": False, "UNIT": False, "CRITICAL": False, "LISTEN": False,
              "PATH_CHANGED": False, "EXTENDED_TYPE": False}


@dataclass(frozen=True, slots=True)
class ShowFacts:
    """What the loaded show declares, as plain data (the engine builds it from the conductor).

    shader_params: (pass, param, low, high, default) in the pass's real units; OSC sends 0..1 over that range.
    inputs: (name, low, high) for /perform/in/<name>, the range the mappings read.
    """

    latent_dim: int = 0
    directions: tuple[str, ...] = ()
    shader_params: tuple[tuple[str, str, float, float, float], ...] = ()
    inputs: tuple[tuple[str, float, float], ...] = ()
    scenes: tuple[str, ...] = ()
    title: str = "perform"


# (typetag, range) for the routes whose table entry is not a plain "f" in 0..1
_COMMAND_TYPES: dict[str, tuple[str, list[dict[str, Any]] | None]] = {
    "release": ("s", None),
    "next": ("N", None),
    "prev": ("N", None),
    "freeze": ("i", [{"VALS": [0, 1]}]),
    "blackout": ("i", [{"VALS": [0, 1]}]),
    "tempo": ("f", [{"MIN": 20.0, "MAX": 400.0}]),
    "beat": ("i", None),
}


def _leaf(path: str, typetag: str, desc: str, access: int, rng: list[dict[str, Any]] | None = None,
          value: list[Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"FULL_PATH": path, "TYPE": typetag, "ACCESS": access, "DESCRIPTION": desc}
    if rng is not None:
        node["RANGE"] = rng
    if value is not None and access & READ:
        node["VALUE"] = value
    return node


def _unit_value(held: Mapping[str, float], key: str, default: float | None) -> list[float] | None:
    v = held.get(key, default)
    return None if v is None else [float(v)]


def leaves(facts: ShowFacts, held: Mapping[str, float]) -> list[dict[str, Any]]:
    """Every method node, from the route table expanded over what the show declares.

    held: current values by mapping name ('latent.3', 'mix', 'in.fader1', 'key.space', 'shader.grade.gain').
    """
    unit = [{"MIN": 0.0, "MAX": 1.0}]
    routes: dict[str, Route] = {r.address: r for r in ROUTES}
    out: list[dict[str, Any]] = []
    for r in ROUTES:
        if "<" in r.address:
            continue  # expanded below from the show's facts
        if r.address == f"{PREFIX}/latent":
            n = facts.latent_dim
            if n:
                out.append(_leaf(r.address, "f" * n, r.help, WRITE, unit * n))
        elif r.address == f"{PREFIX}/mix":
            out.append(_leaf(r.address, "f", r.help, READ | WRITE, unit, _unit_value(held, "mix", None)))
        elif r.action == "go":
            out.append(_leaf(r.address, "s", r.help + (f"; scenes: {', '.join(facts.scenes)}" if facts.scenes else ""),
                             WRITE, [{"VALS": list(facts.scenes)}] if facts.scenes else None))
        else:
            typetag, rng = _COMMAND_TYPES.get(r.action, ("f", unit))
            out.append(_leaf(r.address, typetag, r.help, WRITE, rng))
    latent = routes[f"{PREFIX}/latent/<i>"]
    for i in range(facts.latent_dim):
        out.append(_leaf(f"{PREFIX}/latent/{i}", "f", latent.help.replace("latent coordinate i", f"latent coordinate {i}"),
                         READ | WRITE, unit, _unit_value(held, f"latent.{i}", 0.5)))
    direction = routes[f"{PREFIX}/direction/<name>"]
    for name in facts.directions:
        out.append(_leaf(f"{PREFIX}/direction/{name}", "f", f"{name}: {direction.help}", READ | WRITE, unit,
                         _unit_value(held, f"direction.{name}", 0.5)))
    shader = routes[f"{PREFIX}/shader/<pass>/<param>"]
    for pass_, param, lo, hi, default in facts.shader_params:
        span = hi - lo
        norm = (default - lo) / span if span else 0.0
        out.append(_leaf(f"{PREFIX}/shader/{pass_}/{param}", "f",
                         f"{pass_}.{param}: {shader.help}; real range {lo:g}..{hi:g}, default {default:g}",
                         READ | WRITE, unit, _unit_value(held, f"shader.{pass_}.{param}", norm)))
    inp = routes[f"{PREFIX}/in/<name>"]
    declared = {name for name, _, _ in facts.inputs}
    for name, lo, hi in facts.inputs:
        out.append(_leaf(f"{PREFIX}/in/{name}", "f", f"{name}: {inp.help}", READ | WRITE,
                         [{"MIN": float(lo), "MAX": float(hi)}], _unit_value(held, f"in.{name}", None)))
    for name in sorted(k.partition(".")[2] for k in held if k.startswith("in.")):
        if name not in declared:  # sent by a controller though no mapping reads it (yet): shown as it is
            out.append(_leaf(f"{PREFIX}/in/{name}", "f", f"{name}: {inp.help}", READ | WRITE, None,
                             _unit_value(held, f"in.{name}", None)))
    key = routes[f"{PREFIX}/key/<name>"]
    for name in sorted(k.partition(".")[2] for k in held if k.startswith("key.")):
        out.append(_leaf(f"{PREFIX}/key/{name}", "f", f"{name}: {key.help}", READ | WRITE, unit,
                         _unit_value(held, f"key.{name}", 0.0)))
    return out


def tree(facts: ShowFacts, held: Mapping[str, float]) -> dict[str, Any]:
    """The whole address space as the OSCQuery root node (containers hold CONTENTS, methods their attributes)."""
    root: dict[str, Any] = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": f"perform: {facts.title}", "CONTENTS": {}}
    for leaf in leaves(facts, held):
        node = root
        parts = leaf["FULL_PATH"].strip("/").split("/")
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault("CONTENTS", {}).setdefault(
                part, {"FULL_PATH": "/" + "/".join(parts[: depth + 1]), "ACCESS": 0})
        node.setdefault("CONTENTS", {})[parts[-1]] = leaf
    return root


def find(root: dict[str, Any], path: str) -> dict[str, Any] | None:
    node = root
    for part in (p for p in path.strip("/").split("/") if p):
        node = (node.get("CONTENTS") or {}).get(part)
        if node is None:
            return None
    return node


class OSCQueryServer:
    """Serves the address space on `host`:`port` (TCP; 0 = any free port) and advertises it by mDNS.

    facts: replaced whole by `set_facts` (a reference swap, read by the HTTP threads without a lock);
    held: a callable returning the current held values (ControlState's snapshots are safe from any thread).
    """

    def __init__(self, facts: ShowFacts, held: Callable[[], Mapping[str, float]], osc_port: int,
                 host: str = "127.0.0.1", port: int = 0, *, mdns: bool = True, name: str = "perform") -> None:
        self._facts = facts
        self._held = held
        self.osc_port = int(osc_port)
        self.host = host
        self.name = name
        self._mdns_wanted = mdns
        self._zeroconf: Any = None
        self._service: Any = None
        self._mdns_thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.mdns_status = "off" if not mdns else "registering"
        self._http = ThreadingHTTPServer((host, port), self._handler_class())
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self._thread: threading.Thread | None = None

    # ---- the data ----

    def set_facts(self, facts: ShowFacts) -> None:
        """The show changed (a setlist reload): the next GET answers with the new address space."""
        self._facts = facts

    def root(self) -> dict[str, Any]:
        return tree(self._facts, self._held())

    def host_info(self) -> dict[str, Any]:
        return {"NAME": self.name, "OSC_IP": self.host, "OSC_PORT": self.osc_port, "OSC_TRANSPORT": "UDP",
                "EXTENSIONS": dict(EXTENSIONS)}

    def answer(self, target: str) -> tuple[int, Any]:
        """(HTTP status, JSON body) for a request target such as '/perform/mix?VALUE'."""
        parts = urlsplit(target)
        path, query = unquote(parts.path) or "/", parts.query
        if query == "HOST_INFO":
            return 200, self.host_info()
        node = find(self.root(), path)
        if node is None:
            return 404, {"error": f"no address {path}"}
        if not query:
            return 200, node
        attr = query.split("&")[0].upper()
        if attr not in ATTRIBUTES:
            return 400, {"error": f"unknown attribute {attr}; known: {', '.join(ATTRIBUTES)}"}
        if attr not in node:
            return 204, None  # the proposal: an attribute this node has no value for
        return 200, {attr: node[attr]}

    # ---- threads ----

    def start(self) -> "OSCQueryServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2},
                                            name=f"oscquery:{self.port}", daemon=True)
            self._thread.start()
            if self._mdns_wanted:
                self._mdns_thread = threading.Thread(target=self._register, name="oscquery-mdns", daemon=True)
                self._mdns_thread.start()
        return self

    def close(self, timeout_s: float = 2.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout_s)
            self._thread = None
        self._http.server_close()
        if self._mdns_thread is not None:
            self._mdns_thread.join(timeout_s)
        zc = self._zeroconf
        if zc is not None:
            try:
                if self._service is not None:
                    zc.unregister_service(self._service)
                zc.close()
            except Exception as e:  # leaving the network quietly is best effort
                log.debug("mDNS close: %s", e)

    def __enter__(self) -> "OSCQueryServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _register(self) -> None:
        """Advertise _oscjson._tcp (this HTTP port) on the interfaces the server listens on; never raises."""
        try:
            from zeroconf import InterfaceChoice, ServiceInfo, Zeroconf  # imported here: only a live show with OSCQuery needs it

            if self.host in ("0.0.0.0", "::"):
                interfaces: Any = InterfaceChoice.All
                addresses = sorted({a for a in _own_addresses() if not a.startswith("127.")}) or ["127.0.0.1"]
            else:
                interfaces, addresses = [self.host], [self.host]
            hostname = socket.gethostname().split(".")[0] or "perform"
            info = ServiceInfo("_oscjson._tcp.local.", f"{self.name} on {hostname}._oscjson._tcp.local.",
                               addresses=[socket.inet_aton(a) for a in addresses if ":" not in a], port=self.port,
                               properties={"txtvers": "1"}, server=f"{hostname}.local.")
            zc = Zeroconf(interfaces=interfaces)
            self._zeroconf = zc
            if self._closing.is_set():
                return
            zc.register_service(info, allow_name_change=True)
            self._service = info
            self.mdns_status = f"advertised as {info.name!r}"
            log.info("OSCQuery: mDNS %s", self.mdns_status)
        except Exception as e:  # no multicast here (a container, a locked-down network): HTTP still answers
            self.mdns_status = f"not advertised ({type(e).__name__}: {e})"
            log.warning("OSCQuery: mDNS registration failed, clients must be given the address by hand: %s", e)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "perform-oscquery/1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                try:
                    status, body = server.answer(self.path)
                except Exception as e:  # a bug here must not kill the HTTP thread
                    log.exception("OSCQuery: answering %s", self.path)
                    status, body = 500, {"error": str(e)}
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("OSCQuery %s: " + fmt, self.address_string(), *args)

        return Handler


def _own_addresses() -> list[str]:
    try:
        return socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return []


def held_values(inputs: Mapping[str, float], keys: Mapping[str, float], overrides: Mapping[str, float]) -> dict[str, float]:
    """ControlState's three snapshots as one mapping of mapping names ('in.x', 'key.y', 'latent.3', ...)."""
    out = dict(overrides)
    out.update({f"in.{k}": v for k, v in inputs.items()})
    out.update({f"key.{k}": v for k, v in keys.items()})
    return out
