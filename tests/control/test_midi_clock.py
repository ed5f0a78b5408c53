"""MIDI clock in: ticks at a known rate (with USB-like jitter), read by the MIDI thread, set the tempo within
0.5 BPM and post a beat every 24 ticks from Start; the conductor's tempo and beat-synced LFOs follow."""

from __future__ import annotations

import random
import threading

import mido
import pytest

from perform.control.midi_clock import MidiClock
from perform.control.midi_in import MidiInput
from perform.control.state import ControlState

from _midi_fakes import FakePorts


def ticks(bpm: float, beats: int, t0: float = 1.0, jitter_s: float = 0.001, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    period = 60.0 / (24 * bpm)
    return [t0 + i * period + rng.uniform(-jitter_s, jitter_s) for i in range(24 * beats)]


@pytest.mark.parametrize("bpm", [73.0, 120.0, 128.0, 174.0])
def test_clock_ticks_at_a_known_rate_give_the_tempo_within_half_a_bpm(bpm):
    clock = MidiClock()
    events = [e for t in ticks(bpm, 8) for e in clock.tick(t)]
    tempos = [e.args[0] for e in events if e.address == "/perform/tempo"]
    assert tempos and abs(tempos[-1] - bpm) < 0.5
    assert len(tempos) <= 8  # at most once a beat, only when it moved


def test_a_tempo_change_is_followed_within_a_bar():
    clock = MidiClock()
    first = ticks(100.0, 8)
    then = ticks(140.0, 4, t0=first[-1] + 60.0 / (24 * 140.0), seed=1)
    events = [e for t in first + then for e in clock.tick(t)]
    assert abs([e.args[0] for e in events if e.address == "/perform/tempo"][-1] - 140.0) < 0.5


def test_the_midi_thread_turns_a_clock_into_tempo_and_beats_for_the_conductor():
    times = [0.0] + ticks(128.0, 6)  # Start, then six beats of ticks
    now = [0.0]
    it = iter(times)

    def arrival() -> float:  # the reader stamps each message once, as it arrives: the nominal times
        now[0] = next(it)
        return now[0]

    state = ControlState(clock=lambda: now[0])
    ports = FakePorts(["Ableton Push 2"])
    midi = MidiInput("push", state, ports=ports, clock=arrival)
    try:
        port = ports.latest("Ableton Push 2")
        port.feed(mido.Message("start"), *[mido.Message("clock")] * (len(times) - 1))
        events = []
        beats = []
        while len(beats) < 6:
            events += state.drain(times[-1] + 1.0)
            beats = [e for e in events if e.address == "/perform/beat"]
    finally:
        midi.close()
    assert [e.args[0] for e in beats] == [0, 1, 2, 3, 4, 5]
    assert [e.t_s for e in beats] == [times[1 + 24 * k] for k in range(6)]  # on the beat's first tick
    tempos = [e.args[0] for e in events if e.address == "/perform/tempo"]
    assert abs(tempos[-1] - 128.0) < 0.5


def test_stop_holds_the_beats_and_continue_carries_on_from_the_song_position():
    clock = MidiClock()
    t = iter(ticks(120.0, 10, jitter_s=0.0))
    clock.start(0.0)
    out = [e for _ in range(48) for e in clock.tick(next(t))]
    clock.stop(0.0)
    out += [e for _ in range(24) for e in clock.tick(next(t))]  # clock runs on while stopped: no beats
    clock.song_position(16)  # bar 2 (16 sixteenths = 4 beats)
    clock.resume(0.0)
    out += [e for _ in range(25) for e in clock.tick(next(t))]
    assert [e.args[0] for e in out if e.address == "/perform/beat"] == [0, 1, 4, 5]
