"""audio.* mapping sources: names checked when the setlist loads, values read from the frame's audio signals."""

import pytest

from perform.audio.features import AUDIO_SIGNALS, AudioValues
from perform.mapping.engine import MappingEngine
from perform.mapping.spec import MappingError, parse_mapping


def test_every_audio_signal_is_a_source_and_a_wrong_name_lists_them():
    for name in AUDIO_SIGNALS:
        assert parse_mapping({"source": f"audio.{name}", "target": "mix"}, "t").source == f"audio.{name}"
    assert parse_mapping({"source": "audio.db", "target": "mix"}, "t").in_range == (-60.0, 0.0)
    assert parse_mapping({"source": "audio.tempo", "target": "mix"}, "t").in_range == (60.0, 180.0)
    assert parse_mapping({"source": "audio.band.high", "target": "mix"}, "t").in_range == (0.0, 0.25)
    with pytest.raises(MappingError, match=r"unknown audio signal 'band\.bass'.*band\.low.*did you mean"):
        parse_mapping({"source": "audio.band.bass", "target": "mix"}, "show.toml: [[mapping]] #1")
    with pytest.raises(MappingError, match="audio.<signal>"):
        parse_mapping({"source": "audoi.rms", "target": "mix"}, "t")


def test_each_band_is_read_and_shown_under_its_own_name():
    v = AudioValues(bands=(0.1, 0.2, 0.3))
    assert [v.sources()[f"band.{b}"] for b in ("low", "mid", "high")] == [0.1, 0.2, 0.3]
    assert "low 0.10 mid 0.20 high 0.30" in v.hud()


def test_audio_signals_drive_their_targets_and_hold_when_there_is_no_audio():
    specs = [parse_mapping({"source": "audio.band.low", "target": "latent.0", "in": [0.0, 0.5], "out": [0.0, 2.0]}, "a"),
             parse_mapping({"source": "audio.onset", "target": "mix", "out": [0.0, 1.0]}, "b")]
    eng = MappingEngine(specs, latent_dim=4)
    loud = AudioValues(bands=(0.25, 0.0, 0.0), onset=1.0).sources()
    out = eng.evaluate(0.0, {}, {}, audio=loud)
    assert out.latent[0] == pytest.approx(1.0) and out.mix == pytest.approx(1.0)
    quiet = eng.evaluate(0.1, {}, {}, audio=AudioValues().sources())
    assert quiet.latent[0] == pytest.approx(0.0) and quiet.mix == pytest.approx(0.0)
    # no audio input at all: the last value holds (like an OSC input not sent), never an error
    held = eng.evaluate(0.2, {}, {})
    assert held.latent[0] == pytest.approx(0.0)


def test_a_show_that_maps_audio_is_told_apart_from_one_that_does_not():
    from types import SimpleNamespace

    from perform.audio.signals import maps_audio

    def runtime(*sources):
        specs = [parse_mapping({"source": s, "target": "mix"}, "t") for s in sources]
        return SimpleNamespace(mapper=MappingEngine(specs, latent_dim=2))

    assert maps_audio([runtime("face.yaw"), runtime("lfo.sine", "audio.beat")])
    assert not maps_audio([runtime("face.yaw", "in.fader")])
