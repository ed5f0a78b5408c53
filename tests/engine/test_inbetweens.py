"""When the chained clock may plan an image between two camera frames (pure timing logic, simulated clock)."""

from perform.engine.inbetweens import InBetweens, wanted


def _fed(camera_s: float, generate_s: float, period_s: float = 1 / 60) -> InBetweens:
    ib = InBetweens(period_s)
    for k in range(10):  # camera frames stamped every camera_s, each here 10 ms later
        ib.frame(k * camera_s, k * camera_s + 0.010)
        ib.generated(generate_s)
    return ib


def test_an_in_between_comes_a_display_period_after_the_last_plan():
    ib = _fed(1 / 30, 0.005)
    last_plan = 9 / 30 + 0.011
    assert abs(ib.due(last_plan) - (last_plan + 1 / 60)) < 1e-9
    # after that one, the next would not be back before the next camera frame
    assert ib.due(last_plan + 1 / 60) is None


def test_none_until_the_rates_are_known():
    ib = InBetweens(1 / 60)
    assert ib.due(0.0) is None
    ib.frame(0.0, 0.01)
    ib.generated(0.005)
    assert ib.due(0.011) is None  # one frame: the camera's rate is not known yet


def test_a_slow_model_or_a_fast_camera_gets_none():
    assert _fed(1 / 30, 0.020).due(9 / 30 + 0.011) is None  # 16.7 + 20 ms: past the next frame
    assert _fed(1 / 60, 0.003).due(9 / 60 + 0.011) is None  # the camera is as fast as the display


def test_a_slow_camera_gets_several():
    ib = _fed(0.1, 0.005)
    t, due = 0.9 + 0.011, []
    while (t := ib.due(t)) is not None:
        due.append(t)
    assert len(due) == 5  # 16.7 ... 83.3 ms after the plan; a sixth would not be back before the next frame


def test_a_gap_of_a_lost_camera_is_not_its_rate():
    ib = _fed(1 / 30, 0.005)
    ib.frame(9 / 30 + 3.0, 9 / 30 + 3.01)  # three seconds without frames
    assert abs(ib.camera_s - 1 / 30) < 1e-9


def test_auto_is_on_with_four_cores():
    assert wanted("auto", cores=4) and wanted("auto", cores=16)
    assert not wanted("auto", cores=2)
    assert wanted("on", cores=2) and not wanted("off", cores=16)
