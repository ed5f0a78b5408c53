"""`perform midi --list`: the MIDI ports this machine has; `--monitor NAME`: print what a port sends, as the
show would read it (mapping source names, tempo from its clock)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--list", action="store_true", help="list the MIDI input and output ports (the default)")
    p.add_argument("--monitor", metavar="NAME", default=None,
                   help="print the events a MIDI input sends (part of its name), as mapping sources; Ctrl-C stops")


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; mido only when this runs
    from perform.control.midi_ports import MidoPorts

    ports = MidoPorts()
    if args.monitor:
        return _monitor(args.monitor, ports)
    inputs, outputs = ports.input_names(), ports.output_names()
    if ports.problem:
        print(f"MIDI is not available here: {ports.problem}")
        print("(on Linux the ALSA sequencer, /dev/snd/seq, must exist: `sudo modprobe snd-seq`)")
    print("MIDI inputs (--midi-in):" + ("" if inputs else " none"))
    for name in inputs:
        print(f"  {name}")
    print("MIDI outputs (--midi-out):" + ("" if outputs else " none"))
    for name in outputs:
        print(f"  {name}")
    return 0


def _monitor(wanted: str, ports) -> int:
    import time

    # start-up: every command module is imported for `perform --help`
    from perform.control.midi_in import MidiInput
    from perform.control.midi_ports import match_port
    from perform.control.osc_routes import held_values
    from perform.control.state import ControlState

    state = ControlState()
    name = match_port(wanted, ports.input_names(), "--monitor", ports.problem)  # a refusal names this option
    midi = MidiInput(name, state, ports=ports)
    print(f"monitoring {midi.name} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(0.05)
            for e in state.drain(state.now()):
                held = list(held_values(e))
                text = "  ".join(f"{k} = {v:.4f}" for k, v in held) if held else f"{e.address} {' '.join(map(str, e.args))}"
                print(text, flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        midi.close()
