"""MIDI in: mido messages become ControlEvents (14-bit pairs, notes, bend, program), a port read on its own
thread feeds ControlState, a vanished port is retried, an unknown name lists the ports there are."""

from __future__ import annotations

import mido
import pytest

from perform.control.midi_in import MidiInput, MidiTranslator
from perform.control.midi_ports import MidoPorts, match_port
from perform.control.osc_routes import Router
from perform.control.state import ControlState
from perform.errors import PerformError

from _midi_fakes import FakePorts

NANO = "nanoKONTROL2:nanoKONTROL2 _ CTRL 20:0"


def values(events):
    return [(e.address, e.args[0]) for e in events]


def test_a_14_bit_pair_gives_one_fine_value_and_a_7_bit_cc_its_own_scale():
    tr = MidiTranslator()
    assert values(tr(mido.Message("control_change", channel=0, control=7, value=127), 0.0)) == \
        [("/perform/midi/cc/1/7", 1.0)]                                   # 7-bit until an LSB is seen
    fine = tr(mido.Message("control_change", channel=0, control=39, value=64), 0.0)  # LSB of 7
    assert values(fine)[0] == ("/perform/midi/cc/1/7", pytest.approx((127 * 128 + 64) / 16383))
    assert values(fine)[1] == ("/perform/midi/cc/1/39", pytest.approx(64 / 127))
    # from now on 7 is 14-bit: MSB then LSB, 8192 is the middle
    ev = tr(mido.Message("control_change", channel=0, control=7, value=64), 0.0)
    ev += tr(mido.Message("control_change", channel=0, control=39, value=0), 0.0)
    held = dict(values(ev))
    assert held["/perform/midi/cc/1/7"] == pytest.approx(8192 / 16383)
    # another channel's controller 7 is its own, still 7-bit
    assert values(tr(mido.Message("control_change", channel=9, control=7, value=127), 0.0)) == \
        [("/perform/midi/cc/10/7", 1.0)]


def test_notes_bend_and_program_are_normalised_and_accepted_by_the_routes():
    tr = MidiTranslator()
    router = Router()
    msgs = [mido.Message("note_on", channel=1, note=60, velocity=127), mido.Message("note_on", channel=1, note=60, velocity=0),
            mido.Message("note_off", channel=1, note=61, velocity=40), mido.Message("pitchwheel", channel=0, pitch=-8192),
            mido.Message("pitchwheel", channel=0, pitch=8191), mido.Message("program_change", channel=15, program=5)]
    events = [e for m in msgs for e in tr(m, 1.0)]
    assert values(events) == [("/perform/midi/note/2/60", 1.0), ("/perform/midi/note/2/60", 0.0),
                              ("/perform/midi/note/2/61", 0.0), ("/perform/midi/bend/1", -1.0),
                              ("/perform/midi/bend/1", 1.0), ("/perform/midi/program/16", 5)]
    for e in events:  # the same addresses are OSC routes: valid as they are, so a replay or an OSC sender may use them
        assert router.route(e.address, e.args, e.t_s, origin="midi")[0] == e
    state = ControlState(clock=lambda: 1.0)
    for e in events:
        state.post(e)
    state.drain(1.0)
    assert dict(state.midi) == {"note.2.60": 0.0, "note.2.61": 0.0, "bend.1": 1.0, "program.16": pytest.approx(5 / 127)}


def test_midi_routes_refuse_channels_and_numbers_outside_midi():
    from perform.control.osc_routes import Rejected

    router = Router()
    for address, arg in (("/perform/midi/cc/0/7", 0.5), ("/perform/midi/cc/17/7", 0.5), ("/perform/midi/note/1/128", 0.5),
                         ("/perform/midi/cc/1/7", 1.5), ("/perform/midi/bend/1", -2.0), ("/perform/midi/program/1", 3.5)):
        with pytest.raises(Rejected):
            router.route(address, (arg,), 0.0)


def test_messages_through_the_port_thread_reach_control_state():
    ports = FakePorts([NANO])
    state = ControlState()
    midi = MidiInput("nanokontrol", state, ports=ports)  # part of the name, any case
    try:
        port = ports.latest(NANO)
        assert midi.wait_status("ok", 5.0)
        port.feed(mido.Message("control_change", channel=0, control=16, value=127))
        port.feed(bytes([0xB0, 16 + 32, 127]))  # raw bytes through mido's parser: the LSB
        events = []
        while len(events) < 3:
            events += state.drain(state.now() + 1.0)
        assert values(events)[-2] == ("/perform/midi/cc/1/16", pytest.approx(1.0))
        assert {e.origin for e in events} == {"midi"}
        assert state.midi["cc.1.16"] == pytest.approx(1.0)
    finally:
        midi.close()
    assert midi.status == "ended"


def test_a_port_that_vanishes_is_retried_and_messages_flow_again():
    ports = FakePorts([NANO])
    state = ControlState()
    midi = MidiInput("nano", state, ports=ports, check_s=0.05, backoff_s=(0.01, 0.05))
    try:
        assert midi.wait_status("ok", 5.0)
        ports.unplug(NANO)  # the cable is pulled: the port closes under the reader and leaves the list
        assert midi.wait_status("lost", 5.0)
        assert "MIDI in lost" in midi.hud_lines()[0]
        back = NANO.replace("20:0", "24:0")  # plugged back in under another client number
        ports.plug(back)
        port = ports.latest(back)
        assert midi.wait_status("ok", 5.0)
        port.feed(mido.Message("note_on", channel=0, note=36, velocity=127))
        events = []
        while not events:
            events = state.drain(state.now() + 1.0)
        assert values(events) == [("/perform/midi/note/1/36", 1.0)]
        assert midi.reconnects >= 1 and midi.name == back
    finally:
        midi.close()


def test_an_unknown_port_name_lists_the_ports_there_are():
    with pytest.raises(PerformError) as err:
        MidiInput("launchpad", ControlState(), ports=FakePorts([NANO, "IAC Driver Bus 1"]))
    assert "launchpad" in str(err.value) and NANO in str(err.value) and "IAC Driver Bus 1" in str(err.value)
    with pytest.raises(PerformError, match="no MIDI input ports"):
        match_port("x", [], "--midi-in")


def test_a_real_virtual_port_reaches_control_state_where_the_os_allows_one():
    ports = MidoPorts()
    try:
        out = mido.open_output("perform-test", virtual=True)
    except Exception as e:  # no ALSA sequencer (/dev/snd/seq), no CoreMIDI: nothing to test here
        pytest.skip(f"virtual MIDI ports unavailable here: {type(e).__name__}: {e}")
    state = ControlState()
    try:
        midi = MidiInput("perform-test", state, ports=ports)
        assert midi.wait_status("ok", 5.0)
        out.send(mido.Message("control_change", channel=0, control=1, value=127))
        events = []
        while not events:
            events = state.drain(state.now() + 1.0)
        assert values(events) == [("/perform/midi/cc/1/1", 1.0)]
        midi.close()
    finally:
        out.close()


def test_perform_midi_list_shows_the_ports_or_why_there_are_none(capsys, monkeypatch):
    import argparse

    import perform.control.midi_ports as midi_ports
    from perform.commands import midi as cmd

    p = argparse.ArgumentParser()
    cmd.add_arguments(p)
    monkeypatch.setattr(midi_ports, "MidoPorts", lambda: FakePorts([NANO], outputs=["Desk"]))
    assert cmd.run(p.parse_args(["--list"])) == 0
    out = capsys.readouterr().out
    assert NANO in out and "Desk" in out and "--midi-in" in out
    monkeypatch.undo()
    broken = FakePorts()
    broken.problem = "SystemError: MidiInAlsa::initialize: error creating ALSA sequencer client object."
    monkeypatch.setattr(midi_ports, "MidoPorts", lambda: broken)
    assert cmd.run(p.parse_args(["--list"])) == 0
    out = capsys.readouterr().out
    assert "not available" in out and "inputs (--midi-in): none" in out


def test_perform_midi_monitor_refuses_an_unknown_port_naming_its_own_option(monkeypatch):
    import argparse

    import perform.control.midi_ports as midi_ports
    from perform.commands import midi as cmd

    p = argparse.ArgumentParser()
    cmd.add_arguments(p)
    monkeypatch.setattr(midi_ports, "MidoPorts", lambda: FakePorts([NANO]))
    with pytest.raises(PerformError) as err:
        cmd.run(p.parse_args(["--monitor", "launchpad"]))
    assert "--monitor 'launchpad'" in str(err.value) and "no MIDI input port" in str(err.value)
    assert NANO in str(err.value) and "--midi-in" not in str(err.value)
    monkeypatch.setattr(midi_ports, "MidoPorts", lambda: FakePorts())
    with pytest.raises(PerformError, match="--monitor 'nano': there are no MIDI input ports"):
        cmd.run(p.parse_args(["--monitor", "nano"]))
