"""ControlState: where handlers enqueue ControlEvents and the engine drains them, once a frame.

Handlers (the OSC thread, key handlers, a replayed recording) only `post`; they never touch GL or
torch. This is the owner of the routes whose target is HELD (osc_routes): values (MIDI controls among them) and /perform/release. The engine calls `drain(now_s)` once per frame and gets the events due by then, in time
order; future ones (OSC bundles with a timetag) wait in a bounded heap. Draining also updates the
held values (`inputs`, `keys`, `overrides`): the latest value of each, as of the last drain, so what
a frame sees depends only on the events and the drain times (the fixed clock relies on it).
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import logging
import threading
import time
import types
from typing import Callable, Mapping

from perform.control.events import ControlEvent
from perform.control.osc_routes import HELD, held_values, route_for
from perform.control.stats import ControlCounters

log = logging.getLogger(__name__)

_EMPTY: Mapping[str, float] = types.MappingProxyType({})


class ControlState:
    """Thread-safe event queue plus held control values.

    Args:
        clock: the engine's clock (time.perf_counter live; the frame clock offline). `now()` reads it,
            so senders stamp arrivals on the same clock the engine drains with.
        max_ahead_s: events scheduled further ahead than this are refused (`too_far_ahead`).
        max_pending: at most this many events wait; more are refused (`overflow`), newest first,
            so a stalled engine cannot make memory or latency grow.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter, *, max_ahead_s: float = 10.0,
                 max_pending: int = 8192, counters: ControlCounters | None = None) -> None:
        self._clock = clock
        self.max_ahead_s = float(max_ahead_s)
        self.max_pending = int(max_pending)
        self.counters = counters or ControlCounters(log)
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int, ControlEvent]] = []
        self._seq = itertools.count()  # ties keep arrival order
        # copy-on-write snapshots: readers take a reference, never a lock
        self._inputs: Mapping[str, float] = _EMPTY
        self._keys: Mapping[str, float] = _EMPTY
        self._overrides: Mapping[str, float] = _EMPTY
        self._midi: Mapping[str, float] = _EMPTY

    def now(self) -> float:
        return self._clock()

    # ---- producers (any thread) ----

    def post(self, event: ControlEvent, now_s: float | None = None) -> bool:
        """Enqueue one event; False (and counted) if refused. Events due in the past are due at once."""
        now_s = self._clock() if now_s is None else now_s
        if event.t_s - now_s > self.max_ahead_s:
            self.counters.drop("too_far_ahead", f"{event.address} scheduled {event.t_s - now_s:.1f} s ahead "
                               f"(max {self.max_ahead_s:g} s; is the sender's clock set right?)")
            return False
        with self._lock:
            if len(self._heap) >= self.max_pending:
                full = True
            else:
                full = False
                heapq.heappush(self._heap, (event.t_s, next(self._seq), event))
        if full:
            self.counters.drop("overflow", f"{event.address}: {self.max_pending} events already pending")
            return False
        self.counters.add("accepted")
        return True

    # ---- the engine (one thread) ----

    def drain(self, now_s: float) -> list[ControlEvent]:
        """The events due by `now_s` in time order; updates the held values as it goes."""
        with self._lock:
            heap = self._heap
            if not heap or heap[0][0] > now_s:
                return []
            due = []
            while heap and heap[0][0] <= now_s:
                due.append(heapq.heappop(heap)[2])
        self._hold(due)
        return due

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def release(self, pattern: str = "*") -> None:
        """End direct holds whose target matches `pattern` (fnmatch, e.g. 'latent.*')."""
        self._overrides = types.MappingProxyType(
            {k: v for k, v in self._overrides.items() if not fnmatch.fnmatchcase(k, pattern)})

    @property
    def inputs(self) -> Mapping[str, float]:
        """Generic inputs by name (/perform/in/<name>), as of the last drain."""
        return self._inputs

    @property
    def keys(self) -> Mapping[str, float]:
        """Keys by name (1 held, 0 released), as of the last drain."""
        return self._keys

    @property
    def midi(self) -> Mapping[str, float]:
        """MIDI controls by mapping name less 'midi.' ('cc.1.7', 'note.1.60', 'bend.1', 'program.1'), as of the
        last drain: cc and note 0..1, bend -1..1, program / 127."""
        return self._midi

    @property
    def overrides(self) -> Mapping[str, float]:
        """Direct holds by mapping target name ('latent.3', 'direction.smile', 'mix', 'shader.p.q'),
        normalised 0..1 as sent; MappingEngine applies them on top of the mappings."""
        return self._overrides

    def _hold(self, events: list[ControlEvent]) -> None:
        inputs = keys = overrides = midi = None
        for e in events:
            route = route_for(e.address)
            if route is None or route.target != HELD:  # commands: their owners apply them (osc_routes.ROUTES)
                continue
            if route.action == "release":
                pat = str(e.args[0]) if e.args else "*"
                overrides = {k: v for k, v in (self._overrides if overrides is None else overrides).items()
                             if not fnmatch.fnmatchcase(k, pat)}
                continue
            for key, value in held_values(e):
                ns, _, name = key.partition(".")
                if ns == "in":
                    inputs = dict(self._inputs) if inputs is None else inputs
                    inputs[name] = value
                elif ns == "key":
                    keys = dict(self._keys) if keys is None else keys
                    keys[name] = value
                elif ns == "midi":
                    midi = dict(self._midi) if midi is None else midi
                    midi[name] = value
                else:
                    overrides = dict(self._overrides) if overrides is None else overrides
                    overrides[key] = value
        if inputs is not None:
            self._inputs = types.MappingProxyType(inputs)
        if keys is not None:
            self._keys = types.MappingProxyType(keys)
        if overrides is not None:
            self._overrides = types.MappingProxyType(overrides)
        if midi is not None:
            self._midi = types.MappingProxyType(midi)
