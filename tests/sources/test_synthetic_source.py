"""SyntheticSource: deterministic frames for a time, motion, exits, dropouts, fail_after, live pacing."""

import numpy as np

from perform.sources.synthetic import SyntheticSource


def test_same_time_same_frame_and_motion_over_time():
    a, b = SyntheticSource(seed=3, size=(160, 120)), SyntheticSource(seed=3, size=(160, 120))
    f1, f2 = a.frame_at(7.25, 217), b.frame_at(7.25, 217)
    assert f1.image.shape == (120, 160, 3) and f1.image.dtype == np.uint8
    assert np.array_equal(f1.image, f2.image) and f1.t_capture_s == 7.25 and f1.index == 217
    assert not np.array_equal(a.frame_at(7.25, 0).image, a.frame_at(9.0, 0).image)
    assert not np.array_equal(a.frame_at(0.0, 0).image, SyntheticSource(seed=4, size=(160, 120)).frame_at(0.0, 0).image)


def test_poses_cover_roll_turn_and_exits():
    src = SyntheticSource(seed=0, size=(64, 48), noise_sigma=0)
    poses = [src.pose_at(t) for t in np.arange(0, 60, 0.1)]
    rolls = np.array([p.roll_deg for p in poses])
    turns = np.array([p.turn for p in poses])
    xs = np.array([p.centre[0] for p in poses])
    assert rolls.max() > 10 and rolls.min() < -10 and np.abs(rolls).max() <= 25
    assert turns.max() > 0.3 and turns.min() < -0.3
    assert (np.abs(xs - 0.5) > 0.9).any() and (np.abs(xs - 0.5) < 0.3).mean() > 0.7  # leaves, mostly in
    assert np.abs(np.diff(rolls)).max() < 3.0  # smooth: no jumps between 0.1 s steps


def test_dropouts_and_fail_after_for_fixed_clock():
    src = SyntheticSource(size=(32, 24), dropouts=[(1.0, 2.0)], fail_after=100)
    assert src.frame_at(0.5, 15) is not None
    assert src.frame_at(1.5, 45) is None
    assert src.frame_at(2.0, 60) is not None
    assert src.frame_at(3.5, 100) is None


def test_live_read_paces_and_loses_frames_in_a_dropout():
    src = SyntheticSource(fps=50, size=(32, 24), dropouts=[(0.1, 10.0)])
    assert src.status == "waiting"
    frames = [src.read(0.5) for _ in range(3)]
    assert all(f is not None for f in frames) and src.status == "ok"
    assert [f.index for f in frames] == sorted({f.index for f in frames})  # strictly increasing
    assert frames[-1].t_capture_s > frames[0].t_capture_s
    got = None
    for _ in range(10):
        got = src.read(0.05)
        if got is None:
            break
    assert got is None and src.status == "lost"
    src.close()
    assert src.read(1.0) is None


def test_stall_file_stalls_live_reads_until_it_goes(tmp_path):
    stall = tmp_path / "camera.stall"
    src = SyntheticSource(fps=50, size=(32, 24), stall_file=stall)
    assert src.read(0.5) is not None and src.status == "ok"
    stall.touch()
    assert src.read(0.05) is None and src.read(0.05) is None and src.status == "lost"
    stall.unlink()
    back = src.read(0.5)
    assert back is not None and src.status == "ok"
    src.close()
