"""MappingEngine: curves, LFOs, smoothing, combine modes, direct holds, determinism."""

import math

import numpy as np
import pytest

from perform.control.events import ControlEvent
from perform.control.state import ControlState
from perform.mapping.engine import MappingEngine, keyframe_latent
from perform.mapping.signals import Smoother, curve, lfo
from perform.mapping.spec import MappingError, Smoothing, load_default_mappings, parse_mapping


def spec(**kw):
    return parse_mapping(kw, "test")


def test_curves_fix_the_ends_and_bend_the_middle():
    for name in ("linear", "exponential", "smoothstep"):
        assert curve(0.0, name) == 0.0 and curve(1.0, name) == pytest.approx(1.0)
    assert curve(0.5, "exponential", 3.0) < 0.5 < curve(0.5, "exponential", -3.0)
    assert curve(0.25, "smoothstep") == pytest.approx(0.15625)


def test_lfo_shapes():
    assert lfo("sine", 0.0) == pytest.approx(0.0) and lfo("sine", 0.5) == pytest.approx(1.0)
    assert lfo("triangle", 0.25) == pytest.approx(0.5)
    assert lfo("saw", 2.75) == pytest.approx(0.75)
    assert (lfo("square", 0.2), lfo("square", 0.7)) == (1.0, 0.0)
    walk = [lfo("random", c / 10, seed=3) for c in range(100)]
    assert all(0.0 <= v <= 1.0 for v in walk)
    assert max(abs(a - b) for a, b in zip(walk, walk[1:])) < 0.3  # smooth, not white noise
    assert walk != [lfo("random", c / 10, seed=4) for c in range(100)]


def test_slew_reaches_63_percent_after_one_time_constant_whatever_the_frame_rate():
    for fps in (30, 60, 240):
        sm = Smoother(Smoothing(slew_s=0.5))
        sm(0.0, 0.0)
        y = 0.0
        for i in range(1, int(0.5 * fps) + 1):
            y = sm(1.0, i / fps)
        assert y == pytest.approx(1 - math.exp(-1), abs=1e-6)


def test_one_euro_smoothing_damps_jitter():
    sm = Smoother(Smoothing(one_euro=True, min_cutoff=1.0, beta=0.0))
    rng = np.random.default_rng(0)
    noisy = 0.5 + 0.1 * rng.standard_normal(120)
    out = [sm(float(x), i / 60) for i, x in enumerate(noisy)]
    assert np.std(out[30:]) < 0.5 * np.std(noisy[30:])


def test_input_range_curve_and_output_range():
    eng = MappingEngine([spec(source="in.f", target="latent.2", **{"in": [0, 127], "out": [-1, 1]}, combine="replace")], 8)
    assert eng.evaluate(0.0, {"f": 127.0}, {}).latent[2] == pytest.approx(1.0)
    assert eng.evaluate(0.1, {"f": 500.0}, {}).latent[2] == pytest.approx(1.0)  # clamped
    assert eng.evaluate(0.2, {"f": 63.5}, {}).latent[2] == pytest.approx(0.0)
    inv = MappingEngine([spec(source="in.f", target="mix", invert=True)], 8)
    assert inv.evaluate(0.0, {"f": 0.25}, {}).mix == pytest.approx(0.75)


def test_combine_modes_do_not_depend_on_file_order():
    a = spec(source="in.a", target="latent.0", combine="replace", out=[0, 1])
    b = spec(source="in.b", target="latent.0", combine="sum", out=[0, 1])
    c = spec(source="in.c", target="latent.0", combine="multiply", out=[0, 4])
    inputs = {"a": 0.5, "b": 0.25, "c": 0.5}
    for order in ([a, b, c], [c, b, a], [b, c, a]):
        assert MappingEngine(order, 4).evaluate(0.0, inputs, {}).latent[0] == pytest.approx((0.5 + 0.25) * 2.0)
    base = np.arange(4, dtype=np.float32)
    assert MappingEngine([b], 4, base_latent=base).evaluate(0.0, inputs, {}).latent[3] == 3.0
    assert MappingEngine([b], 4, base_latent=base).evaluate(0.0, inputs, {}).latent[0] == pytest.approx(0.25)


def test_face_drives_a_named_direction():
    d = np.zeros(16, np.float32)
    d[5] = 2.0  # normalised by the engine
    eng = MappingEngine([spec(source="face.mouth_open", target="direction.mouth", out=[0, 3])], 16, {"mouth": d})
    z = eng.evaluate(0.0, {}, {"mouth_open": 0.5}).latent
    assert z[5] == pytest.approx(1.5) and np.count_nonzero(z) == 1
    assert eng.evaluate(0.1, {}, {}).latent[5] == pytest.approx(1.5)  # face lost: hold the last value


def test_keyframes_position_slerps_through_the_list():
    kf = np.eye(3, 4, dtype=np.float32) * 2
    eng = MappingEngine([spec(source="in.p", target="keyframes")], 4, keyframes=kf)
    assert np.allclose(eng.evaluate(0.0, {"p": 0.0}, {}).latent, kf[0])
    assert np.allclose(eng.evaluate(0.1, {"p": 1.0}, {}).latent, kf[2])
    mid = eng.evaluate(0.2, {"p": 0.25}, {}).latent
    assert np.linalg.norm(mid) == pytest.approx(2.0, rel=1e-5)  # slerp keeps the norm between keyframes
    assert np.allclose(mid, keyframe_latent(kf, 0.25))
    with pytest.raises(MappingError, match="keyframes"):
        MappingEngine([spec(source="in.p", target="keyframes")], 4)


def test_beat_synced_lfo_follows_tempo_and_resyncs_on_beat():
    eng = MappingEngine([spec(source="lfo.saw", target="mix", beats=4)], 4)
    eng.evaluate(0.0, {}, {}, tempo_bpm=120)
    assert eng.evaluate(1.0, {}, {}, tempo_bpm=120).mix == pytest.approx(0.5)  # 2 beats of 4
    assert eng.evaluate(1.5, {}, {}, tempo_bpm=60).mix == pytest.approx(0.625)  # half a beat more
    eng.sync_beat(4)
    assert eng.evaluate(1.5, {}, {}, tempo_bpm=60).mix == pytest.approx(0.0)


def test_a_beat_between_frames_counts_from_its_own_time():
    eng = MappingEngine([spec(source="lfo.saw", target="mix", beats=4)], 4)
    eng.evaluate(0.0, {}, {}, tempo_bpm=120)
    eng.evaluate(1.0, {}, {}, tempo_bpm=120)           # 2 beats
    eng.sync_beat(None, t_s=1.2, tempo_bpm=120)         # 2.4 beats by our count: the beat is beat 2
    assert eng.evaluate(1.5, {}, {}, tempo_bpm=120).mix == pytest.approx(2.6 / 4)  # 0.3 s (0.6 beat) after it


def test_direct_holds_from_the_control_state_replace_mapped_values():
    d = np.eye(8, dtype=np.float32)[1]
    eng = MappingEngine([spec(source="in.a", target="latent.0", out=[-1, 1], combine="replace"),
                         spec(source="in.a", target="mix"), spec(source="in.a", target="shader.bloom.amount")],
                        8, {"up": d}, shader_ranges={("bloom", "amount"): (0.0, 4.0)})
    st = ControlState(clock=lambda: 0.0)
    for addr, v in (("/perform/latent/0", 1.0), ("/perform/mix", 0.2), ("/perform/direction/up", 0.75),
                    ("/perform/shader/bloom/amount", 0.5)):
        st.post(ControlEvent(0.0, addr, (v,)))
    st.drain(0.0)
    p = eng.evaluate(0.0, {"a": 0.0}, {}, overrides=st.overrides)
    assert p.latent[0] == pytest.approx(3.0)      # 0..1 -> -3..3 latent span
    assert p.latent[1] == pytest.approx(1.5)      # direction hold 0.75 -> +1.5
    assert p.mix == pytest.approx(0.2)
    assert p.shader_params[("bloom", "amount")] == pytest.approx(2.0)
    st.post(ControlEvent(0.0, "/perform/release", ("*",)))
    st.drain(0.0)
    p = eng.evaluate(0.1, {"a": 0.0}, {}, overrides=st.overrides)
    assert (p.latent[0], p.mix, p.shader_params[("bloom", "amount")]) == (-1.0, 0.0, 0.0)


def test_same_inputs_same_times_same_output():
    def run():
        eng = MappingEngine(load_default_mappings(), 64, {"yaw": np.ones(64, np.float32)})
        return np.stack([eng.evaluate(i / 30, {}, {"yaw": math.sin(i / 7), "mouth_open": (i % 10) / 10}).latent
                         for i in range(90)])
    a, b = run(), run()
    assert np.array_equal(a, b)
    assert np.ptp(a[:, 8]) > 0  # the drift moves


def test_a_held_shader_value_for_a_pass_this_scene_lacks_is_ignored():

    from perform.mapping.engine import MappingEngine

    eng = MappingEngine((), 4, shader_params=[("grade", "saturation")],
                        shader_ranges={("grade", "saturation"): (0.0, 2.0)})
    out = eng.evaluate(0.0, {}, {}, overrides={"shader.grade.saturation": 0.25, "shader.kaleido.segments": 1.0})
    assert dict(out.shader_params) == {("grade", "saturation"): 0.5}
