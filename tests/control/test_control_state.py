"""ControlState: time-ordered draining, bounded scheduling, held values as of the last drain."""

import threading

from perform.control.events import ControlEvent
from perform.control.state import ControlState


def ev(t, address, *args):
    return ControlEvent(t, address, tuple(args))


def test_drain_returns_due_events_in_time_order_and_keeps_future_ones():
    st = ControlState(clock=lambda: 0.0)
    st.post(ev(0.5, "/perform/scene/next"), now_s=0.0)
    st.post(ev(0.0, "/perform/in/a", 0.1), now_s=0.0)
    st.post(ev(0.2, "/perform/in/a", 0.2), now_s=0.0)
    assert [e.t_s for e in st.drain(0.3)] == [0.0, 0.2]
    assert st.inputs == {"a": 0.2}
    assert st.pending() == 1
    assert [e.address for e in st.drain(1.0)] == ["/perform/scene/next"]
    assert st.drain(2.0) == []


def test_same_time_events_keep_arrival_order():
    st = ControlState(clock=lambda: 0.0)
    for v in (0.1, 0.9, 0.4):
        st.post(ev(0.0, "/perform/in/x", v))
    assert [e.args[0] for e in st.drain(0.0)] == [0.1, 0.9, 0.4]
    assert st.inputs["x"] == 0.4


def test_too_far_ahead_and_overflow_are_counted_and_refused():
    st = ControlState(clock=lambda: 0.0, max_ahead_s=10.0, max_pending=3)
    assert not st.post(ev(10.5, "/perform/beat"))
    assert st.counters.dropped("too_far_ahead") == 1
    assert all(st.post(ev(1.0, "/perform/beat")) for _ in range(3))
    assert not st.post(ev(1.0, "/perform/beat"))
    assert st.counters.dropped("overflow") == 1
    assert len(st.drain(5.0)) == 3


def test_held_values_overrides_keys_and_release():
    st = ControlState(clock=lambda: 0.0)
    for e in (ev(0, "/perform/latent/3", 0.8), ev(0, "/perform/latent", 0.1, 0.2), ev(0, "/perform/mix", 0.5),
              ev(0, "/perform/shader/bloom/amount", 0.7), ev(0, "/perform/direction/smile", 0.9),
              ev(0, "/perform/key/space", 1.0)):
        st.post(e)
    st.drain(0.0)
    assert dict(st.overrides) == {"latent.3": 0.8, "latent.0": 0.1, "latent.1": 0.2, "mix": 0.5,
                                  "shader.bloom.amount": 0.7, "direction.smile": 0.9}
    assert dict(st.keys) == {"space": 1.0}
    st.post(ev(0, "/perform/release", "latent.*"))
    st.drain(0.0)
    assert set(st.overrides) == {"mix", "shader.bloom.amount", "direction.smile"}
    st.post(ev(0, "/perform/release", "*"))
    st.drain(0.0)
    assert dict(st.overrides) == {}


def test_snapshot_read_while_another_thread_posts():
    st = ControlState(clock=lambda: 0.0)
    snap = st.inputs
    stop = threading.Event()

    def producer():
        i = 0
        while not stop.is_set() and i < 20000:
            st.post(ev(0.0, f"/perform/in/n{i % 50}", float(i)))
            i += 1

    th = threading.Thread(target=producer)
    th.start()
    total = 0
    for _ in range(200):
        total += len(st.drain(0.0))
    stop.set()
    th.join()
    total += len(st.drain(0.0))
    assert snap == {}  # an old snapshot never changes under the reader
    assert total == st.counters.get("accepted")
