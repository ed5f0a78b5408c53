"""MidiClock: MIDI beat clock in (24 ticks a beat; start, stop, continue, song position) -> tempo and beat events.

The tempo is a least-squares fit over the last ticks' arrival times (USB MIDI jitters by a millisecond or so,
a tick at 120 BPM is 21 ms apart; the fit starts again from the last half beat when that half beat disagrees
with it by 3%, so a change of tempo is followed within a beat or two), posted at most once a beat and only
when it moved. Each beat while the transport runs posts /perform/beat with its count from the song's start,
so beat-synced LFOs and quantised scene changes follow the sender's bars. Both are ordinary ControlEvents for the scheduler and the mappings
(the tempo's one owner stays the scheduler), so a recorded session replays them like any other control.
Pure: times come in with the messages; no clock is read here.
"""

from __future__ import annotations

from collections import deque

from perform.control.events import ControlEvent

PPQN = 24  # MIDI clock ticks per quarter note
TEMPO_ADDRESS = "/perform/tempo"
BEAT_ADDRESS = "/perform/beat"
MIN_BPM, MAX_BPM = 20.0, 400.0  # what /perform/tempo accepts
_RECENT = 12  # ticks (half a beat) compared with the whole window to notice a change of tempo


class MidiClock:
    """Feed it clock-related messages with their arrival times; each call returns the events to post.

    window: ticks in the tempo fit (96 = four beats: jitter averages out, a tempo change is followed within a bar).
    min_change_bpm: a fitted tempo closer than this to the last one posted is not posted again.
    """

    def __init__(self, origin: str = "midi", window: int = 4 * PPQN, min_change_bpm: float = 0.05) -> None:
        self.origin = origin
        self.min_change_bpm = min_change_bpm
        self._ticks: deque[float] = deque(maxlen=window + 1)
        self._since_post = 0
        self.tempo_bpm: float | None = None  # the last tempo posted
        self.running = False
        self.position = 0  # ticks since the song's start: the next tick's position

    def tick(self, t_s: float) -> list[ControlEvent]:
        out: list[ControlEvent] = []
        ticks = self._ticks
        if ticks:
            gap = t_s - ticks[-1]
            expected = 60.0 / (PPQN * (self.tempo_bpm or 120.0))
            # the clock stopped and came back, or a tick was lost in a jump of tempo: start the fit again
            if gap <= 0 or gap > 60.0 / (PPQN * MIN_BPM) or (self.tempo_bpm and not expected / 3 < gap < expected * 3):
                ticks.clear()
        ticks.append(t_s)
        if len(ticks) > 2 * _RECENT:
            recent = (ticks[-1] - ticks[-1 - _RECENT]) / _RECENT
            whole = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
            if abs(recent / whole - 1.0) > 0.03:  # the tempo moved: fit the new one only, not a blend of both
                for _ in range(len(ticks) - _RECENT - 1):
                    ticks.popleft()
        self._since_post += 1
        if len(ticks) > PPQN and self._since_post >= PPQN:  # a beat of ticks at least; at most once a beat
            bpm = _fit_bpm(ticks)
            if MIN_BPM <= bpm <= MAX_BPM and (self.tempo_bpm is None or abs(bpm - self.tempo_bpm) >= self.min_change_bpm):
                self.tempo_bpm = bpm
                out.append(ControlEvent(t_s, TEMPO_ADDRESS, (bpm,), self.origin))
            self._since_post = 0
        if self.running:
            if self.position % PPQN == 0:
                out.append(ControlEvent(t_s, BEAT_ADDRESS, (self.position // PPQN,), self.origin))
            self.position += 1
        return out

    def start(self, t_s: float) -> list[ControlEvent]:
        """Start: from the song's beginning; the next tick is beat 0."""
        self.running = True
        self.position = 0
        return []

    def stop(self, t_s: float) -> list[ControlEvent]:
        self.running = False
        return []

    def resume(self, t_s: float) -> list[ControlEvent]:
        """Continue: from the position the transport stopped at (or a song position pointer set)."""
        self.running = True
        return []

    def song_position(self, sixteenths: int) -> None:
        """Song position pointer: in sixteenth notes (6 ticks each) from the song's start."""
        self.position = int(sixteenths) * (PPQN // 4)


def _fit_bpm(ticks: deque[float]) -> float:
    """The tempo from a least-squares line through tick times (t_i = a + i * period), rounded to 0.01 BPM."""
    n = len(ticks)
    mean_i = (n - 1) / 2.0
    t0 = ticks[0]
    mean_t = sum(t - t0 for t in ticks) / n
    num = sum((i - mean_i) * (t - t0 - mean_t) for i, t in enumerate(ticks))
    den = sum((i - mean_i) ** 2 for i in range(n))
    period = num / den
    return round(60.0 / (PPQN * period), 2) if period > 0 else 0.0
