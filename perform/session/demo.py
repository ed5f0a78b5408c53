"""Makes the shipped demo session: the synthetic camera tracked by the real FaceTracker, plus scripted OSC.

    python -m perform.session.demo setlists/sessions/demo

Everything runs on the fixed clock (frame n at n/fps), so the same code on the same machine writes the same
face track and events. The scripted messages go through the real OSC routing table, as if a controller had
sent them; scene changes are worked out by the real scheduler from the setlist, and recorded for verification.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from perform.control.events import ControlEvent
from perform.control.osc_routes import Rejected, Router
from perform.errors import PerformError
from perform.session.recorder import RecorderStatus, SessionRecorder, check_session_dir
from perform.setlist.loader import load_setlist
from perform.setlist.scheduler import SceneScheduler
from perform.sources.synthetic import SyntheticSource
from perform.tracking.tracker import FaceTracker

log = logging.getLogger(__name__)

DEFAULT_SETLIST = "setlists/demo.toml"


@dataclass(frozen=True, slots=True)
class Message:
    """One scripted OSC message: what a controller would send at t_s."""

    t_s: float
    address: str
    args: tuple = ()


def _sweep(address: str, t0: float, t1: float, v0: float, v1: float, rate_hz: float,
           shape=lambda u: u) -> list[Message]:
    """A fader moved from v0 to v1 between t0 and t1, sent rate_hz times a second (as a controller would)."""
    n = max(1, int(round((t1 - t0) * rate_hz)))
    return [Message(round(t0 + (t1 - t0) * k / n, 6), address, (round(v0 + (v1 - v0) * shape(k / n), 4),))
            for k in range(n + 1)]


def demo_script() -> list[Message]:
    """The scripted controller part of the demo (times in seconds from the session start).

    Scene cuts come slightly before the setlist's own scene ends (a performer cutting early); within the
    OSC-driven scene a latent coordinate circles, then a named direction is pushed and released; in the
    kaleidoscope scene a shader parameter sweeps.
    """
    msgs: list[Message] = [Message(0.5, "/perform/tempo", (120.0,))]
    # a latent coordinate pair circles for two seconds, then control goes back to the mappings
    for k in range(31):
        a = 2 * math.pi * k / 30
        t = round(4.8 + 2.0 * k / 30, 6)
        msgs += [Message(t, "/perform/latent/0", (round(0.5 + 0.3 * math.cos(a), 4),)),
                 Message(t, "/perform/latent/1", (round(0.5 + 0.3 * math.sin(a), 4),))]
    msgs.append(Message(7.0, "/perform/release", ("latent.*",)))
    # a direction push: out along pc0 and back, eased
    ease = lambda u: math.sin(math.pi * u) ** 2  # noqa: E731 - 0 -> 1 -> 0
    msgs += [Message(m.t_s, m.address, (round(0.5 + 0.4 * m.args[0], 4),))
             for m in _sweep("/perform/direction/pc0", 7.2, 8.4, 0.0, 1.0, 20, ease)]
    msgs.append(Message(8.6, "/perform/release", ("direction.*",)))
    # a shader parameter sweep in the kaleidoscope scene
    msgs += _sweep("/perform/shader/kaleido/spin", 9.0, 11.8, 0.1, 0.9, 20)
    # the faders of the OSC mapping: the face-to-latent mix rises during the outro
    msgs += _sweep("/perform/in/fader3", 13.0, 15.0, 0.0, 1.0, 10)
    # scene cuts, and a freeze held for a moment near the end
    msgs += [Message(4.5, "/perform/scene/next"), Message(8.8, "/perform/scene/next"),
             Message(12.5, "/perform/scene/next"), Message(17.0, "/perform/freeze", (1,)),
             Message(17.5, "/perform/freeze", (0,))]
    return sorted(msgs, key=lambda m: m.t_s)


def script_events(messages: list[Message]) -> list[ControlEvent]:
    """The messages as the OSC routing table turns them into ControlEvents (validated, canonical args)."""
    router = Router()
    events: list[ControlEvent] = []
    for m in messages:
        try:
            events += router.route(m.address, m.args, m.t_s, origin="osc")
        except Rejected as exc:  # the script is ours: a rejected message is a bug here, not a show problem
            raise ValueError(f"demo script message {m.address} {m.args}: {exc}") from exc
    return events


def _scene_names(setlist_path: Path | None):
    """A function (t_s, events) -> scene name, from the setlist's scheduler; None without a setlist."""
    if setlist_path is None or not setlist_path.is_file():
        return None

    try:
        setlist = load_setlist(setlist_path)
    except PerformError as exc:  # scene records are for verification only: the session is whole without them
        log.warning("scene changes not recorded: %s does not load: %s", setlist_path, str(exc).splitlines()[0])
        return None
    scheduler = SceneScheduler(setlist)
    return lambda t, evs: scheduler.update(t, evs).name


def make_demo_session(out: str | Path, seconds: float = 20.0, fps: float = 30.0, seed: int = 0,
                      crop_size: int = 64, setlist: str | Path | None = DEFAULT_SETLIST,
                      overwrite: bool = True) -> RecorderStatus:
    """Record the demo session into `out`; returns the recorder's final status (state 'closed' on success)."""
    out = check_session_dir(out, overwrite=overwrite)
    frames = int(round(seconds * fps))
    events = [e for e in script_events(demo_script()) if e.t_s < frames / fps]
    setlist_path = Path(setlist) if setlist else None
    scene_at = _scene_names(setlist_path)
    source = SyntheticSource(fps=fps, seed=seed)
    # a queue that holds everything: the demo must never drop (the writer catches up at close)
    rec = SessionRecorder(out, fps=fps, setlist=str(setlist_path or ""), model="face-64",
                          source=f"synthetic(seed={seed})", crop_size=crop_size, origin_s=0.0,
                          queue_size=2 * frames + 2 * len(events) + 16)
    i = 0
    try:
        with FaceTracker(crop_size=crop_size) as tracker:
            for n in range(frames):
                t = n / fps
                frame = source.frame_at(t, n)
                if frame is not None:
                    rec.add_face(tracker.process(frame))
                due = []
                while i < len(events) and events[i].t_s <= t:
                    due.append(events[i])
                    i += 1
                rec.add_events(due)
                if scene_at is not None:
                    rec.add_scene(scene_at(t, due), t)
    finally:
        source.close()
        status = rec.close()
    if status.state != "closed" or status.dropped:
        raise PerformError(f"the demo session was not recorded cleanly: {status.line()}")
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m perform.session.demo", description=__doc__.splitlines()[0])
    p.add_argument("out", help="session folder to write (replaced if it holds a session)")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crop-size", type=int, default=64)
    p.add_argument("--setlist", default=DEFAULT_SETLIST, help="setlist whose scene changes are recorded ('' for none)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname).1s %(name)s: %(message)s")
    try:
        st = make_demo_session(a.out, a.seconds, a.fps, a.seed, a.crop_size, a.setlist or None)
    except PerformError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{a.out}: {st.faces} face rows, {st.events} events, {st.duration_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
