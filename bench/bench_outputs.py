"""Video outputs and audio signals: what each output adds to the render loop at 1280x720, and sound-to-screen latency.

Part 1: a render loop paced at --fps (upload a 128 px image, two effect passes, the display pass to 1280x720, as a
show draws), then the frame read back for the outputs (`ChainPresenter.capture`) and submitted to an OutputHub.
Measured on the main thread: the time the outputs add to it (the readback and the hand-over, after the GL work has
finished: ctx.finish), and its whole busy time per frame (the pacing sleep left out); on each output's thread, the
wall and CPU time of a send. For no outputs, the readback alone, and each output (the UDP stream to 127.0.0.1, NDI and the virtual camera where their extras are installed,
an output stuck in its driver), in rounds so that a change in the machine's load weighs on all of them alike. The
outputs' own threads compete for the same cores: that competition is part of the figure.

Part 2: the audio signals. The analysis cost per 256-sample block; the detection delay (a click's first sample
to the sample at which its onset is known) over a click track; and sound-to-screen in the live clock: a stream
that behaves like a sound card delivers a click track in real time, a mapping sends audio.onset to a shader
parameter, and the time from the click's block reaching the callback to the present() of the first frame drawn
with it is measured. A real device adds its input buffer (sounddevice's stream.latency, typically 3-10 ms).

    python bench/bench_outputs.py [--frames 150] [--rounds 2] [--fps 30] [--audio-s 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SIZE = (1280, 720)


def _pct(ms: list[float]) -> tuple[float, float]:
    a = np.asarray(ms) if ms else np.zeros(1)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


class _Timed:
    """Wraps a sink to time its send() on the output's thread."""

    def __init__(self, sink) -> None:
        self.sink, self.name, self.send_ms, self.cpu_ms = sink, sink.name, [], []

    def open(self) -> None:
        self.sink.open()

    def send(self, frame) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        self.sink.send(frame)
        self.send_ms.append((time.perf_counter() - t0) * 1e3)
        self.cpu_ms.append((time.thread_time() - c0) * 1e3)  # this thread's CPU: what it takes from the show's cores

    def close(self) -> None:
        self.sink.close()


class _Stuck:
    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()

    def open(self) -> None:
        pass

    def send(self, frame) -> None:
        self.release.wait()

    def close(self) -> None:
        pass


def _configs(udp_url: str, fps: float):
    from perform.outputs.stream import StreamSink

    yield "none", None
    yield "readback", lambda: []
    yield "stream", lambda: [StreamSink(udp_url, SIZE, fps)]
    try:
        import cyndilib  # noqa: F401  (the [ndi] extra)
        from perform.outputs.optional import NDISink

        yield "ndi", lambda: [NDISink("perform-bench", SIZE, fps)]
    except ImportError:
        pass
    try:
        import pyvirtualcam  # noqa: F401  (the [vcam] extra; needs a v4l2loopback device on Linux)
        from perform.outputs.optional import VirtualCameraSink

        yield "vcam", lambda: [VirtualCameraSink(SIZE, fps)]
    except ImportError:
        pass
    yield "stuck", lambda: [_Stuck()]


def bench_outputs(frames: int, rounds: int, fps: float) -> list[dict]:
    from perform.outputs.hub import OutputHub
    from perform.render.chain import ShaderChain
    from perform.render.context import collect_garbage, create_headless_context
    from perform.render.passes import PassSpec

    ctx = create_headless_context()
    chain = ShaderChain(ctx, [PassSpec("colour_grade", params={"saturation": 1.3}),
                              PassSpec("feedback", params={"decay": 0.8}), PassSpec("display")], (128, 128), SIZE)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (128, 128, 3), dtype=np.uint8) for _ in range(8)]
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a receiver that never reads: the kernel drops for it
    rx.bind(("127.0.0.1", 0))
    url = f"udp://127.0.0.1:{rx.getsockname()[1]}"
    results: dict[str, dict] = {}
    period = 1.0 / fps
    try:
        for _ in range(rounds):
            for name, make in _configs(url, fps):
                sinks = [_Timed(s) if not isinstance(s, _Stuck) else s for s in make()] if make else []
                hub = OutputHub(sinks).start()
                busy, hand = [], []
                t_next = time.perf_counter()
                for f in range(frames + 10):
                    t0 = time.perf_counter()
                    chain.upload(images[f % len(images)])
                    chain.render(f / fps, f)
                    ctx.finish()
                    th = time.perf_counter()
                    if make is not None:  # what ChainPresenter does with capture on: a new array a frame
                        frame = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
                        chain.framebuffer.read_into(frame, components=3, alignment=1)
                        hub.submit(frame)
                    collect_garbage(ctx)
                    t1 = time.perf_counter()
                    if f >= 10:
                        busy.append((t1 - t0) * 1e3)
                        hand.append((t1 - th) * 1e3)
                    t_next += period
                    time.sleep(max(0.0, t_next - time.perf_counter()))
                for s in sinks:
                    if isinstance(s, _Stuck):
                        s.release.set()
                hub.close(timeout_s=2.0)
                r = results.setdefault(name, {"output": name, "busy_ms": [], "hand_ms": [], "send_ms": [], "cpu_ms": [],
                                              "sent": 0, "dropped": 0})
                r["busy_ms"] += busy
                r["hand_ms"] += hand
                for w in hub.workers:
                    r["sent"] += w.sent
                    r["dropped"] += w.dropped
                    r["send_ms"] += getattr(w.sink, "send_ms", [])
                    r["cpu_ms"] += getattr(w.sink, "cpu_ms", [])
    finally:
        chain.release()
        ctx.release()
        rx.close()
    base = _pct(results["none"]["hand_ms"])[0]
    out = []
    for r in results.values():
        p50, p95 = _pct(r["busy_ms"])
        h50, h95 = _pct(r["hand_ms"])
        s50, _ = _pct(r["send_ms"])
        c50, _ = _pct(r["cpu_ms"])
        out.append({"output": r["output"], "loop_p50_ms": p50, "loop_p95_ms": p95,
                    "added_p50_ms": h50 - base, "added_p95_ms": h95 - base,
                    "send_p50_ms": s50 if r["send_ms"] else None, "send_cpu_p50_ms": c50 if r["cpu_ms"] else None,
                    "sent": r["sent"], "dropped": r["dropped"]})
    return out


def bench_analysis(seconds: float) -> dict:
    """Analysis cost per 256-sample block, and the detection delay of onsets on a click track."""
    from perform.audio.analysis import AudioAnalyzer

    rate, block = 48_000, 256
    x, clicks = _clicks(120.0, seconds, rate)
    x = x + 0.05 * np.sin(2 * np.pi * 55 * np.arange(len(x)) / rate)  # a bass under the clicks
    a = AudioAnalyzer(rate)
    cost, delays, known = [], [], 0
    for i in range(0, len(x) - block + 1, block):
        t0 = time.perf_counter()
        a.feed(x[i:i + block])
        a.values()
        cost.append((time.perf_counter() - t0) * 1e3)
        if a.onsets > known:
            known = a.onsets
            heard = i + block  # the samples analysed when the onset became known
            before = clicks[clicks * rate <= heard]
            if len(before):
                delays.append((heard - before[-1] * rate) / rate * 1e3)
    c50, c95 = _pct(cost)
    return {"block": block, "rate": rate, "analysis_p50_ms": c50, "analysis_p95_ms": c95,
            "detect_mean_ms": float(np.mean(delays)), "detect_max_ms": float(np.max(delays)),
            "onsets": a.onsets, "clicks": int(len(clicks)), "tempo_bpm": a.values().tempo}


def _clicks(bpm: float, seconds: float, rate: int):
    x = np.zeros(int(seconds * rate))
    clicks = np.arange(0.25, seconds - 0.1, 60.0 / bpm)
    n = int(0.004 * rate)
    burst = np.random.default_rng(0).standard_normal(n) * np.exp(-np.arange(n) / (0.001 * rate)) * 0.8
    for t in clicks:
        i = int(round(t * rate))
        x[i:i + n] += burst[:len(x) - i]
    return x, clicks


SHOW = """
[show]
size = [1280, 720]
[show.defaults]
model = "face-64"
drive = "latent"
[[scene]]
name = "only"
seeds = [1]
duration = "hold"
[[scene.mapping]]
source = "audio.onset"
target = "shader.grade.exposure"
out = [0.0, 2.0]
[[scene.shader]]
type = "colour_grade"
name = "grade"
"""


class _RealTimeStream:
    """Behaves like sounddevice's InputStream: blocks of a click track handed to the callback in real time."""

    def __init__(self, samples, rate, blocksize, callback, delivered: list) -> None:
        self.samples, self.rate, self.blocksize, self.callback = samples, rate, blocksize, callback
        self.delivered = delivered  # (perf_counter when handed over, first sample, last sample + 1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        for i in range(0, len(self.samples) - self.blocksize + 1, self.blocksize):
            # a block is complete (and handed over) once its last sample has been captured
            due = t0 + (i + self.blocksize) / self.rate
            self._stop.wait(max(0.0, due - time.perf_counter()))
            if self._stop.is_set():
                return
            block = self.samples[i:i + self.blocksize, None].astype(np.float32)
            self.delivered.append((time.perf_counter(), i, i + self.blocksize))
            self.callback(block, self.blocksize, None, None)

    def close(self) -> None:
        self._stop.set()


def bench_sound_to_screen(seconds: float, display_fps: float) -> dict:
    from perform.audio.live import LiveAudioSignals
    from perform.engine.live_clock import LiveOptions, LiveRunner
    from perform.engine.live_show import NullTracker
    from perform.engine.presenter import ChainPresenter
    from perform.engine.show import build_show
    from perform.render.context import create_headless_context, load_llvm_users_first
    from perform.sources.synthetic import SyntheticSource

    load_llvm_users_first()
    rate = 48_000
    x, clicks = _clicks(120.0, seconds, rate)
    delivered: list = []
    audio = LiveAudioSignals(name="bench", stale_s=60.0, open_stream=lambda dev, sr, bs, cb, fin: _RealTimeStream(
        x, sr, bs, cb, delivered))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "show.toml"
        path.write_text(SHOW)
        show = build_show(str(path), device="cpu", audio=audio)
    ctx = create_headless_context()
    presenter = ChainPresenter(ctx, show.setlist.show.size, show.conductor, hot_reload=False)
    shown: list[tuple[float, float]] = []  # (present time, exposure drawn)

    def on_frame(n, plan, generated):
        if plan is not None and plan.layers:
            shown.append((time.perf_counter(), float(plan.layers[0].params.get(("grade", "exposure"), 0.0))))

    runner = LiveRunner(SyntheticSource(fps=30), NullTracker, show.conductor, presenter, None,
                        LiveOptions(fps=display_fps, frames=int((seconds + 0.5) * display_fps), hud=False,
                                    on_frame=on_frame))
    audio.start()
    try:
        runner.run()
    finally:
        audio.close()
        presenter.close()
        ctx.release()
    lat = []
    for t_click in clicks:
        s = int(round(t_click * rate))
        block = next((d for d in delivered if d[1] <= s < d[2]), None)
        if block is None:
            continue
        # the first frame presented after the click's block came whose exposure jumped (onset > 0.5)
        seen = next((t for t, v in shown if t >= block[0] and v > 1.0), None)
        if seen is not None and seen - block[0] < 0.3:
            lat.append((seen - block[0]) * 1e3)
    p50, p95 = _pct(lat)
    return {"display_fps": display_fps, "clicks": len(clicks), "measured": len(lat), "block_ms": 256 / rate * 1e3,
            "callback_to_screen_p50_ms": p50, "callback_to_screen_p95_ms": p95,
            "callback_to_screen_max_ms": float(max(lat)) if lat else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150, help="frames per output per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--fps", type=float, default=30.0, help="the render loop's pace in part 1")
    ap.add_argument("--audio-s", type=float, default=8.0, help="length of the click track in part 2")
    ap.add_argument("--display-fps", type=float, default=60.0, help="the live clock's pace in part 2")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"# {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{SIZE[0]}x{SIZE[1]} at {args.fps:g} fps, {args.frames} frames x {args.rounds} rounds per output")
    outs = bench_outputs(args.frames, args.rounds, args.fps)
    analysis = bench_analysis(args.audio_s)
    s2s = bench_sound_to_screen(args.audio_s, args.display_fps)
    if args.json:
        for r in outs:
            print(json.dumps(r))
        print(json.dumps(analysis))
        print(json.dumps(s2s))
        return
    print(f"{'output':>9} | {'added p50':>9} {'p95':>6} | {'loop p50':>8} {'p95':>6} | {'send p50':>8} {'cpu':>6} "
          f"{'sent':>5} {'dropped':>7}  (ms; added: readback + hand-over on the render thread)")
    for r in outs:
        send = (f"{r['send_p50_ms']:8.2f} {r['send_cpu_p50_ms']:6.2f}" if r["send_p50_ms"] is not None
                else f"{'-':>8} {'-':>6}")
        print(f"{r['output']:>9} | {r['added_p50_ms']:9.2f} {r['added_p95_ms']:6.2f} | {r['loop_p50_ms']:8.2f} "
              f"{r['loop_p95_ms']:6.2f} | {send} {r['sent']:>5} {r['dropped']:>7}")
    a = analysis
    print(f"\naudio analysis: {a['analysis_p50_ms'] * 1e3:.0f} us p50 ({a['analysis_p95_ms'] * 1e3:.0f} us p95) per "
          f"{a['block']}-sample block ({a['block'] / a['rate'] * 1e3:.1f} ms of sound); onsets {a['onsets']}/{a['clicks']}, "
          f"tempo {a['tempo_bpm']:.1f} BPM; detection delay mean {a['detect_mean_ms']:.1f} ms, max {a['detect_max_ms']:.1f} ms")
    s = s2s
    print(f"sound to screen (live clock at {s['display_fps']:g} fps, {s['measured']}/{s['clicks']} clicks): block "
          f"{s['block_ms']:.1f} ms + callback to present p50 {s['callback_to_screen_p50_ms']:.1f} ms, p95 "
          f"{s['callback_to_screen_p95_ms']:.1f} ms (max {s['callback_to_screen_max_ms']:.1f}); plus the device's "
          "input latency")


if __name__ == "__main__":
    main()
