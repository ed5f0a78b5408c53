"""LinkClock: an Ableton Link session's tempo and beat, posted as /perform/tempo and /perform/beat events.

Optional (`pip install perform-av[link]`, which brings aalink: GPL-3.0, hence not a core dependency) and
imported only with `--link`. A thread polls the session a hundred times a second: a tempo that moved is posted,
and each beat crossed is posted with its count on the session's timeline (quantum 4 by default, so counts that
divide by 4 are the session's bar lines), stamped at the moment it was crossed (back-dated by the fraction of a
beat since). It joins the session when made, so that peers are found while the show loads, and posts from
`start()`: a show alone in the session proposes its setlist's tempo; one that joins others takes theirs. The
tempo's one owner stays the scheduler; sessions record these events like any other, so a
rehearsal replays the tempo the Link session had.

aalink's Link needs an asyncio loop only for its own futures and callbacks, which this never uses: it is given
a loop that never runs, and its properties (tempo, beat, num_peers) are read from this thread.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from typing import Any, Callable

from perform.control.events import ControlEvent
from perform.control.midi_clock import BEAT_ADDRESS, MAX_BPM, MIN_BPM, TEMPO_ADDRESS
from perform.errors import PerformError

log = logging.getLogger(__name__)

ORIGIN = "link"


def aalink_session(tempo_bpm: float = 120.0, quantum: float = 4.0) -> Any:
    """An enabled aalink Link, or PerformError saying how to install it."""
    try:
        import asyncio

        from aalink import Link
    except ImportError:
        raise PerformError("--link needs Ableton Link's Python binding: pip install 'perform-av[link]' "
                           "(aalink, GPL-3.0)") from None
    with warnings.catch_warnings():  # aalink 0.2 deprecates the loop argument but still needs a loop without it
        warnings.simplefilter("ignore", DeprecationWarning)
        link = Link(tempo_bpm, asyncio.new_event_loop())
    link.quantum = quantum
    link.enabled = True
    return link


class LinkClock:
    """Polls a Link session (aalink's Link, or anything with `tempo`, `beat`, `num_peers` and `enabled`)
    and posts its tempo and beats to `control` (a ControlState)."""

    def __init__(self, control: Any, *, link: Any = None, clock: Callable[[], float] | None = None,
                 poll_s: float = 0.01, min_change_bpm: float = 0.01) -> None:
        self.control = control
        self.link = link if link is not None else aalink_session()
        self.clock = clock or control.now
        self.poll_s = poll_s
        self.min_change_bpm = min_change_bpm
        self.tempo_bpm: float | None = None
        self.peers = 0
        self._beat: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="link", daemon=True)

    def start(self, tempo_bpm: float | None = None) -> None:
        """Start posting. Alone in the session (no peers found since joining), propose `tempo_bpm` (the
        setlist's) as the session's tempo; with peers, their tempo is the show's, as Link intends."""
        if tempo_bpm is not None and MIN_BPM <= tempo_bpm <= MAX_BPM and int(self.link.num_peers) == 0:
            self.link.tempo = float(tempo_bpm)
        self._thread.start()

    def poll(self) -> list[ControlEvent]:
        """One look at the session: the events to post (the thread calls this; tests may too)."""
        now = self.clock()
        tempo = float(self.link.tempo)
        beat = float(self.link.beat)
        self.peers = int(self.link.num_peers)
        out = []
        if MIN_BPM <= tempo <= MAX_BPM and (self.tempo_bpm is None or abs(tempo - self.tempo_bpm) >= self.min_change_bpm):
            self.tempo_bpm = tempo
            out.append(ControlEvent(now, TEMPO_ADDRESS, (round(tempo, 3),), ORIGIN))
        whole = math.floor(beat)
        if self._beat is not None and whole != self._beat and tempo > 0:
            crossed = now - (beat - whole) * 60.0 / tempo
            out.append(ControlEvent(crossed, BEAT_ADDRESS, (int(whole),), ORIGIN))
        self._beat = whole
        return out

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(self.poll_s):
            try:
                for e in self.poll():
                    self.control.post(e)
                failures = 0
            except Exception as exc:  # the binding misbehaving must not take the show down
                failures += 1
                if failures in (1, 2, 4, 8, 16) or failures % 1000 == 0:
                    log.warning("Link: poll failed (%d times): %s", failures, exc)

    def hud_lines(self) -> list[str]:
        tempo = f"{self.tempo_bpm:.1f} BPM" if self.tempo_bpm is not None else "no tempo yet"
        return [f"link: {self.peers} peer(s), {tempo}"]

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        try:
            self.link.enabled = False
        except Exception as exc:
            log.debug("Link: disabling failed: %s", exc)
