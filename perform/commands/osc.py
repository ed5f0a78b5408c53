"""`perform osc`: print the OSC address space, send a test message, or listen and show what arrives."""

from __future__ import annotations

import argparse
import socket
import time

from perform.commands import options
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--send", nargs="+", metavar=("ADDRESS", "ARG"),
                   help="send one message, e.g. --send /perform/latent/3 0.8 (ints, floats, true/false, strings)")
    p.add_argument("--listen", action="store_true", help="receive OSC as `perform live` would and print each accepted event")
    p.add_argument("--stats", action="store_true", help="with --listen: print received/accepted/dropped counts once a second "
                   "instead of each event")
    p.add_argument("--host", default="127.0.0.1", help="--send: where to; --listen: interface to bind "
                   "(0.0.0.0 listens on the network, which is printed) [127.0.0.1]")
    p.add_argument("--port", type=options.port, default=9000, help="UDP port [9000]")
    p.add_argument("--allow", nargs="+", metavar="HOST", help="--listen: allowed senders (hosts or networks, e.g. 192.168.1.0/24)")
    p.add_argument("--wait", type=float, default=0.5, metavar="S",
                   help="--send: seconds to wait for a /perform/reply (0: do not wait) [0.5]")
    p.add_argument("--markdown", action="store_true", help="print the address space as a markdown table")
    p.add_argument("--setlist", metavar="FILE", help="also list the live network parameters (bends, blend, trajectory) "
                   "that this setlist's models declare, with their real ranges")


def _parse_arg(s: str):
    if s.lower() in ("true", "false"):
        return s.lower() == "true"
    for kind in (int, float):
        try:
            return kind(s)
        except ValueError:
            pass
    return s


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; the routes table only when this runs
    from perform.control import osc_routes

    if args.send:
        return _send(args.host, args.port, args.send[0], [_parse_arg(a) for a in args.send[1:]], args.wait)
    if args.listen:
        return _listen(args)
    print(osc_routes.address_space_table() if args.markdown else osc_routes.address_space_text())
    if args.setlist:
        _net_addresses(args.setlist)
    return 0


def _net_addresses(path: str) -> None:
    """The setlist's live network parameters: address, the real range 0..1 maps onto, the default."""
    # torch: only when a setlist's models are asked for
    from perform.control.osc_routes import net_address
    from perform.engine.show import build_models
    from perform.setlist.loader import load_setlist

    models = build_models(load_setlist(path), "cpu")
    params: dict[str, tuple[float, float, float]] = {}
    for m in models.values():
        params.update(m.net_params() if hasattr(m, "net_params") else {})
    print(f"\nlive network parameters of {path} (0..1 is sent; it maps onto low..high):")
    if not params:
        print("  none")
    for name, (lo, hi, default) in sorted(params.items()):
        print(f"  {net_address(name):<40} {name:<32} {lo:g}..{hi:g}, default {default:g}")


def _send(host: str, port: int, address: str, values: list, wait_s: float) -> int:
    # start-up: `perform --help` imports every command module; python-osc only when this runs
    from pythonosc.osc_message import OscMessage

    from perform.control.osc_codec import encode_message  # python-osc as well

    if not address.startswith("/"):
        raise PerformError(f"--send: address {address!r} must start with '/'")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("", 0))  # a fixed source port, so the reply finds us
        try:
            sock.sendto(encode_message(address, values), (host, port))
        except OSError as e:
            raise PerformError(f"cannot send to {host}:{port}: {e}") from None
        print(f"sent {address} {' '.join(map(repr, values))} to {host}:{port}")
        if wait_s <= 0:
            return 0
        sock.settimeout(wait_s)
        try:
            data, _ = sock.recvfrom(65536)
        except (socket.timeout, ConnectionResetError):
            print(f"no reply within {wait_s:g} s (values get no 'ok' reply; is `perform live` listening?)")
            return 0
        msg = OscMessage(data)
        print(f"reply: {msg.address} {' '.join(map(str, msg.params))}")
        return 0 if msg.params[:1] == ["ok"] else 1


def _listen(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; python-osc only when this runs
    from perform.control.osc_server import OSCServer
    from perform.control.state import ControlState

    state = ControlState()
    try:
        server = OSCServer(state, args.host, args.port, args.allow)
    except OSError as e:
        raise PerformError(options.osc_bind_problem(e, args.host, args.port, "--port", "--host")) from None
    except ValueError as e:
        raise PerformError(f"--allow: {e}") from None
    print(f"listening for OSC on {args.host}:{server.port} (Ctrl-C to stop)")
    next_stats = time.monotonic() + 1.0
    with server:
        try:
            while True:
                time.sleep(1 / 60)  # a frame's worth, as the engine drains
                for e in state.drain(state.now()):
                    if not args.stats:
                        print(f"{e.address} {' '.join(map(repr, e.args))}")
                if args.stats and time.monotonic() >= next_stats:
                    next_stats += 1.0
                    print(state.counters.summary(), flush=True)
        except KeyboardInterrupt:
            pass
    print(state.counters.summary())
    return 0
