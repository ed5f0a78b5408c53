"""OSC flood: 10,000 messages in one second while a 60 fps loop drains the control state.

Reports the loop's frame time (drain + the frame's work) p50/p95/max with and without the flood, and
what the server received, accepted and dropped. The flood comes from another process, as it would
from Max or TouchOSC. Reusable: `run_loop(frame_fn, ...)` takes the frame's work, so the engine's real
render loop can be measured under the same flood.

    python bench/bench_osc_flood.py [--rate 10000] [--seconds 1] [--fps 60]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from perform.control.events import ControlEvent
from perform.control.osc_routes import Router
from perform.control.osc_codec import encode_message
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.mapping.engine import MappingEngine
from perform.mapping.spec import load_default_mappings, parse_mapping

FrameFn = Callable[[Sequence[ControlEvent], ControlState, float], None]


@dataclass(frozen=True, slots=True)
class LoopResult:
    label: str
    frames: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    interval_p95_ms: float
    events: int
    max_events_per_frame: int
    counters: dict

    def line(self) -> str:
        return (f"{self.label:<12} frames {self.frames:4d}  frame time p50 {self.p50_ms:6.3f} ms  p95 {self.p95_ms:6.3f} ms  "
                f"max {self.max_ms:6.3f} ms  interval p95 {self.interval_p95_ms:6.2f} ms  events {self.events} "
                f"(max {self.max_events_per_frame}/frame)")


def flood_messages(n: int) -> list[bytes]:
    """A realistic mix: faders and latent values, wildcards, commands, and 10% bad messages."""
    out = []
    for i in range(n):
        k = i % 20
        if k < 12:
            out.append(encode_message(f"/perform/in/fader{i % 16}", [(i % 100) / 100]))
        elif k < 15:
            out.append(encode_message(f"/perform/latent/{i % 64}", [0.5]))
        elif k == 15:
            out.append(encode_message("/perform/in/fader*", [0.25]))
        elif k == 16:
            out.append(encode_message("/perform/beat", []))
        elif k == 17:
            out.append(encode_message("/perform/mix", [3.0]))      # out of range
        elif k == 18:
            out.append(encode_message("/perform/nowhere", [1.0]))  # unknown address
        else:
            out.append(b"\x00junk" * 3)                            # malformed
    return out


def _flooder(port: int, rate: float, seconds: float, start_at: float) -> None:
    msgs = flood_messages(int(rate * seconds))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.perf_counter()
    batch = max(1, int(rate / 1000))  # send in 1 ms slices so the second is evenly filled
    for i in range(0, len(msgs), batch):
        for m in msgs[i:i + batch]:
            sock.sendto(m, ("127.0.0.1", port))
        lag = t0 + (i + batch) / rate - time.perf_counter()
        if lag > 0:
            time.sleep(lag)
    sock.close()


def default_frame_fn() -> FrameFn:
    """The control side of a frame: mappings evaluated from the drained state (default set + the faders)."""
    specs = load_default_mappings() + tuple(parse_mapping({"source": f"in.fader{i}", "target": f"latent.{20 + i}"}, "bench")
                                           for i in range(16))
    eng = MappingEngine(specs, 64)

    def frame(events: Sequence[ControlEvent], state: ControlState, now: float) -> None:
        for e in events:
            if e.address == "/perform/beat":
                eng.sync_beat()
        eng.evaluate(now, state.inputs, {}, 120.0, keys=state.keys, overrides=state.overrides)

    return frame


def run_loop(frame_fn: FrameFn, state: ControlState, seconds: float, fps: float, label: str) -> LoopResult:
    """A paced loop at `fps`: each frame drains the state and runs frame_fn; returns its timings."""
    period = 1.0 / fps
    times, intervals, counts = [], [], []
    t_next = time.perf_counter()
    t_prev = None
    end = t_next + seconds
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if t_prev is not None:
            intervals.append((now - t_prev) * 1e3)
        t_prev = now
        events = state.drain(now)
        frame_fn(events, state, now)
        times.append((time.perf_counter() - now) * 1e3)
        counts.append(len(events))
        t_next += period
        delay = t_next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            t_next = time.perf_counter()  # late: do not try to catch up with a burst of frames
    a = np.asarray(times)
    return LoopResult(label, a.size, float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.max()),
                      float(np.percentile(intervals, 95)) if intervals else 0.0, int(sum(counts)), int(max(counts)),
                      dict(state.counters.snapshot()))


def run_flood(frame_fn: FrameFn | None = None, rate: float = 10_000, seconds: float = 1.0, fps: float = 60.0
              ) -> tuple[LoopResult, LoopResult]:
    """(quiet, flooded) loop results for the same frame function."""
    import logging
    logging.getLogger("perform").setLevel(logging.ERROR)  # the flood's drop lines are expected here
    frame_fn = frame_fn or default_frame_fn()
    results = []
    for label, flood in (("quiet", False), ("flooded", True)):
        state = ControlState()
        with OSCServer(state, port=0, router=Router(latent_dim=64)) as server:
            proc = None
            if flood:
                ctx = mp.get_context("spawn")
                start_at = time.time() + 1.0  # after the child has imported and built its messages
                proc = ctx.Process(target=_flooder, args=(server.port, rate, seconds, start_at), daemon=True)
                proc.start()
                while time.time() < start_at - 0.05:
                    time.sleep(0.01)
            results.append(run_loop(frame_fn, state, seconds + (0.3 if flood else 0.0), fps, label))
            if proc is not None:
                proc.join(10)
            time.sleep(0.1)
            state.drain(float("inf"))
        results[-1] = LoopResult(**{**{f: getattr(results[-1], f) for f in LoopResult.__slots__},
                                    "counters": dict(state.counters.snapshot())})
    return results[0], results[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10_000, help="messages per second [10000]")
    ap.add_argument("--seconds", type=float, default=1.0, help="flood duration [1]")
    ap.add_argument("--fps", type=float, default=60.0, help="loop rate [60]")
    a = ap.parse_args()
    quiet, flooded = run_flood(rate=a.rate, seconds=a.seconds, fps=a.fps)
    print(quiet.line())
    print(flooded.line())
    c = flooded.counters
    sent = int(a.rate * a.seconds)
    print(f"flood: sent {sent}, received {c.get('received', 0)} ({100 * c.get('received', 0) / sent:.1f}%), "
          f"accepted events {c.get('accepted', 0)}, dropped "
          + ", ".join(f"{k.removeprefix('dropped.')} {v}" for k, v in sorted(c.items()) if k.startswith("dropped.")))


if __name__ == "__main__":
    main()
