"""Controls reach their owner: /perform/beat over UDP re-phases beat-synced LFOs; the tempo has one owner,
which OSC and a hot-reloaded setlist both set, and which LFOs read."""

from __future__ import annotations

import time

import pytest
from pythonosc.udp_client import SimpleUDPClient

from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.conductor import Conductor, load_models, make_mapper
from perform.setlist.loader import load_setlist
from perform.setlist.scheduler import SceneScheduler
from tests.engine.shows import one_scene

SHOW = """
[show]
size = [64, 64]
tempo_bpm = 120
[show.defaults]
model = "{models}/tiny"
[[scene]]
name = "only"
seeds = [1]
duration = "hold"
[[scene.shader]]
type = "colour_grade"
name = "grade"
[[scene.mapping]]
source = "lfo.saw"
target = "shader.grade.saturation"
beats = 4
combine = "replace"
"""
SATURATION = ("grade", "saturation")


class Clock:
    """The engine's clock, set by the test: events are stamped with the time the test says it is."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def conductor_for(path, control=None) -> Conductor:
    sl = load_setlist(path)
    conductor = Conductor(sl, load_models(sl, "cpu"), make_mapper, SceneScheduler)
    conductor.control = control
    return conductor


def saw(conductor: Conductor, t: float, events=()) -> float:
    """The beat-synced saw's value (its phase in a 4-beat bar, 0..1) in the frame at t."""
    return conductor.step(t, 0, None, list(events)).layers[0].params[SATURATION]


def events_over_udp(client: SimpleUDPClient, control: ControlState, address: str, *args) -> list:
    client.send_message(address, list(args))
    events: list = []
    while not events:  # the next frame drains it (the receiving thread posts it)
        events = control.drain(control.now())
    return events


def test_a_beat_sent_over_udp_rephases_a_beats_lfo(setlist_file):
    clock = Clock()
    control = ControlState(clock)
    conductor = conductor_for(setlist_file(SHOW), control)
    with OSCServer(control, port=0) as server:
        client = SimpleUDPClient("127.0.0.1", server.port)
        assert saw(conductor, 0.0) == pytest.approx(0.0)
        assert saw(conductor, 1.0) == pytest.approx(0.5)          # 2 beats of 4 at 120 BPM
        clock.t = 1.25                                             # 2.5 beats: the sender's downbeat comes now
        assert saw(conductor, 1.25, events_over_udp(client, control, "/perform/beat", 0)) == pytest.approx(0.0)
        assert saw(conductor, 1.75) == pytest.approx(0.25)         # one beat after the downbeat
        clock.t = 1.95                                             # beat 1.4 by our count; the sender says a beat is now
        assert saw(conductor, 1.95, events_over_udp(client, control, "/perform/beat")) == pytest.approx(0.25)
    assert control.counters.get("accepted") == 2


def test_an_osc_tempo_reaches_the_lfos_and_the_scenes_alike(setlist_file):
    conductor = conductor_for(setlist_file(SHOW))
    saw(conductor, 0.0)
    assert saw(conductor, 1.0) == pytest.approx(0.5)
    from perform.control.events import ControlEvent

    assert saw(conductor, 1.0, [ControlEvent(1.0, "/perform/tempo", (60.0,))]) == pytest.approx(0.5)
    assert saw(conductor, 2.0) == pytest.approx(0.75)  # one beat a second now
    assert conductor.scheduler.tempo_bpm == 60.0 and "tempo 60" in conductor.hud_lines()[0]


def test_a_hot_reloaded_tempo_reaches_the_lfos(setlist_file):
    path = setlist_file(SHOW)
    conductor = conductor_for(path)
    saw(conductor, 0.0)
    assert saw(conductor, 1.0) == pytest.approx(0.5)  # 2 beats at 120 BPM
    path.write_text(path.read_text().replace("tempo_bpm = 120", "tempo_bpm = 60"))
    conductor.swap(load_setlist(path))
    assert saw(conductor, 2.0) == pytest.approx(0.75)  # one more beat at 60 BPM (the old tempo would make it 2)
    assert "tempo 60" in conductor.hud_lines()[0]


# two held scenes: the first moves on at its own cue, an address outside /perform/
CUES = one_scene(saturation=None).replace('duration = "hold"', 'duration = "hold"\nadvance = { osc = ["/cue/drop"] }') \
    + '[[scene]]\nname = "drop"\nseeds = [2]\nduration = "hold"\n'


def test_a_scenes_advance_osc_address_sent_over_udp_moves_the_show_on(setlist_file):
    # a setlist's own cue (not under /perform/) was refused by the OSC router as unknown_address: it only worked
    # in a rehearsal of recorded events
    from perform.control.osc_routes import Rejected, Router
    from perform.engine.live_show import declare_controls

    clock = Clock()
    control = ControlState(clock)
    conductor = conductor_for(setlist_file(CUES), control)
    router = Router()
    declare_controls(router, conductor)
    with pytest.raises(Rejected, match="not under /perform/"):
        router.route("/cue/other", (), 0.0)
    with OSCServer(control, port=0, router=router) as server:
        client = SimpleUDPClient("127.0.0.1", server.port)
        conductor.step(0.0, 0, None, [])
        assert conductor.scene_name == "only"
        client.send_message("/cue/drop", [0])  # a button's release: no trigger
        clock.t = 1.0
        client.send_message("/cue/drop", [1])
        deadline, events = time.monotonic() + 10.0, []
        while not events and time.monotonic() < deadline:  # a refused cue never arrives: no endless wait
            events = control.drain(control.now())
        conductor.step(1.0, 0, None, events)
        assert conductor.scene_name == "drop", control.counters.snapshot()
    assert control.counters.get("accepted") == 1 and control.counters.get("ignored") == 1
