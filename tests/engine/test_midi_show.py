"""MIDI through the show: a CC read by the MIDI thread moves its mapping target in the next plan; a bend and a
note map in their own ranges; a recorded session with MIDI replays to the same frames."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import mido
import pytest

from perform.control.midi_in import MidiInput
from perform.control.state import ControlState
from perform.engine.conductor import Conductor, load_models, make_mapper
from perform.mapping.spec import MappingError, parse_mapping
from perform.setlist.loader import load_setlist
from perform.setlist.scheduler import SceneScheduler

sys.path.insert(0, str(Path(__file__).parents[1] / "control"))
from _midi_fakes import FakePorts  # noqa: E402

SHOW = """
[show]
size = [64, 48]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "only"
seeds = [1]
duration = "hold"
[[scene.shader]]
type = "colour_grade"
name = "grade"
[[scene.mapping]]
source = "midi.cc.1.7"
target = "shader.grade.saturation"
out = [0.0, 2.0]
combine = "replace"
[[scene.mapping]]
source = "midi.bend.2"
target = "shader.grade.exposure"
out = [-0.5, 0.5]
combine = "replace"
"""
SAT, BRIGHT = ("grade", "saturation"), ("grade", "exposure")


def conductor_for(path, control) -> Conductor:
    sl = load_setlist(path)
    conductor = Conductor(sl, load_models(sl, "cpu"), make_mapper, SceneScheduler)
    conductor.control = control
    return conductor


def test_a_cc_through_the_midi_thread_moves_its_target_in_the_next_plan(setlist_file):
    state = ControlState()
    conductor = conductor_for(setlist_file(SHOW), state)
    ports = FakePorts(["Launch Control XL"])
    midi = MidiInput("launch control", state, ports=ports)
    try:
        port = ports.latest("Launch Control XL")
        t = state.now()
        before = conductor.step(t, 0, None, state.drain(t)).layers[0].params
        assert before[SAT] == pytest.approx(0.0) and before[BRIGHT] == pytest.approx(0.0)  # bend at rest: the middle
        port.feed(mido.Message("control_change", channel=0, control=7, value=127),
                  mido.Message("pitchwheel", channel=1, pitch=-8192))
        events = []
        while len(events) < 2:  # the frames drain what the MIDI thread posted
            t = state.now()
            events += state.drain(t)
        after = conductor.step(t, 1, None, events).layers[0].params
        assert after[SAT] == pytest.approx(2.0)
        assert after[BRIGHT] == pytest.approx(-0.5)
    finally:
        midi.close()


def test_midi_sources_are_checked_by_name():
    assert parse_mapping({"source": "midi.note.10.36", "target": "mix"}, "t").in_range == (0.0, 1.0)
    assert parse_mapping({"source": "midi.bend.1", "target": "mix"}, "t").in_range == (-1.0, 1.0)
    for bad in ("midi.cc.0.7", "midi.cc.1.128", "midi.cc.1", "midi.note", "midi.wheel.1", "midi.bend.17"):
        with pytest.raises(MappingError, match="midi.cc.<channel>"):
            parse_mapping({"source": bad, "target": "mix"}, "t")


def free_port_socket():
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(60)
    return sock


@pytest.mark.gl
def test_a_recorded_session_with_midi_replays_to_the_same_frames(setlist_file, tmp_path, render, monkeypatch):
    """A live run with MIDI in and out, its controller unplugged and plugged back mid-show, recorded; then
    rehearsed twice from the session: the same frame hashes both times, and the MIDI moved the pixels (the
    same rehearsal without the events differs)."""
    import threading

    import perform.control.midi_in as midi_in
    from perform.engine.live_show import LiveConfig, run_live
    from perform.session.reader import load_session

    setlist = setlist_file(SHOW)
    session = tmp_path / "session"
    import perform.control.midi_out as midi_out

    ports = FakePorts(["Launch Control XL"], outputs=["Lighting desk"])
    monkeypatch.setattr(midi_in, "MidoPorts", lambda: ports)  # the show's --midi-in and --midi-out open these
    monkeypatch.setattr(midi_out, "MidoPorts", lambda: ports)
    frames_out = free_port_socket()  # --osc-out sends one face datagram a frame: the show's frames pace the controller

    replugged = "Launch Control XL 2"

    def play():
        try:
            port = ports.latest("Launch Control XL", timeout_s=60)
            for k in range(12):
                if k == 6:  # the cable is pulled mid-show and plugged back in: the show carries on, MIDI with it
                    ports.unplug("Launch Control XL")
                    ports.plug(replugged)
                    port = ports.latest(replugged, timeout_s=60)
                for _ in range(8):
                    frames_out.recvfrom(65536)
                port.feed(mido.Message("control_change", channel=0, control=7, value=(k * 37) % 128),
                          mido.Message("pitchwheel", channel=1, pitch=(k * 2000) % 8191))
        except (OSError, AssertionError):  # the show ended first: the asserts below say so
            return

    player = threading.Thread(target=play, daemon=True)
    player.start()
    cfg = LiveConfig(setlist=str(setlist), source="synthetic", headless=True, frames=150, fps=30.0, osc_port=0,
                     record=str(session), capture_fps=30.0, midi_in="launch", midi_out="desk",
                     osc_out=[("127.0.0.1", frames_out.getsockname()[1])])
    try:
        assert run_live(cfg) == 0
    finally:
        player.join(5)
        frames_out.close()
    desk = ports.opened["Lighting desk"][0].sent  # MIDI out: the first scene's program change, the face as CCs
    assert [m.program for m in desk if m.type == "program_change"] == [0]
    assert any(m.type == "control_change" for m in desk)
    rec = load_session(session)
    midi = [e for e in rec.events() if e.address.startswith("/perform/midi/")]
    assert len(midi) > 12  # more than the 6 CC + bend pairs sent before the unplug: MIDI came back
    frames = int(rec.duration_s * 30)
    hashes = []
    for _ in range(2):
        out = render(setlist, frames, events=rec.events(), face=rec.face_input(32))
        hashes.append([hashlib.sha256(px.tobytes()).hexdigest() for px, _ in out])
    assert hashes[0] == hashes[1]
    still = render(setlist, frames, events=[], face=rec.face_input(32))
    assert [hashlib.sha256(px.tobytes()).hexdigest() for px, _ in still] != hashes[0]


LFO = SHOW.split("[[scene.mapping]]")[0] + """[[scene.mapping]]
source = "lfo.saw"
target = "shader.grade.saturation"
beats = 4
combine = "replace"
"""


def test_a_midi_clock_sets_the_tempo_the_beat_lfos_and_the_scenes_follow(setlist_file):
    """90 BPM from a clock: the scheduler's tempo is the clock's, and a 4-beat saw is at its start on the
    clock's beat 4 and half way two beats (1.33 s at 90 BPM) later."""
    from perform.control.midi_in import MidiTranslator

    state = ControlState(clock=lambda: 0.0)
    conductor = conductor_for(setlist_file(LFO), state)
    tr = MidiTranslator()
    period = 60.0 / (24 * 90.0)
    events = tr(mido.Message("start"), 0.0)
    events += [e for i in range(24 * 4 + 1) for e in tr(mido.Message("clock"), i * period)]
    t4 = 4 * 24 * period  # beat 4: the clock's downbeat of bar 2
    conductor.step(0.0, 0, None, [])
    plan = conductor.step(t4, 1, None, events)
    assert abs(conductor.scheduler.tempo_bpm - 90.0) < 0.5
    assert plan.layers[0].params[SAT] == pytest.approx(0.0, abs=1e-6)
    half = conductor.step(t4 + 2 * 60.0 / 90.0, 2, None, []).layers[0].params[SAT]
    assert half == pytest.approx(0.5, abs=0.01)
