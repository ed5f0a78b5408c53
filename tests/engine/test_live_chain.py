"""The chained live clock (the default of `perform live`): capture and tracking in an inference child, each camera
frame planned here at once and its image generated right after; the faults of the unchained clock, chained. Two
children (`ChainedInference`, the default: one tracks a frame ahead, one generates) and one child doing both."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.chain import ChainSpec
from perform.engine.inference_process import ChainedInference, InferenceProcess
from perform.engine.live_clock import LiveOptions, LiveRunner
from perform.engine.show import build_show
from perform.engine.stages import NO_FRAME_INDEX
from perform.sources.synthetic import SyntheticSource
from perform.tracking.tracker import FaceTracker
from tests.engine.shows import one_scene

pytestmark = pytest.mark.gl

ROOT = Path(__file__).resolve().parents[2]

SHOW = one_scene()


@pytest.fixture
def chained(staged, setlist_file):
    """chained(source_factory, frames, ...) -> (runner, infer): a live runner whose inference children read the
    source and track (two: ChainedInference; one=True: one child doing both); closed after the test."""
    made = []

    def make(source_factory, frames=None, stall_s=2.0, on_frame=None, control=None, text=SHOW, one=False, **options):
        show, presenter = staged(setlist_file(text), control=control)
        spec = ChainSpec(source_factory, partial(FaceTracker, crop_size=32), "synthetic")
        kind = InferenceProcess if one else ChainedInference
        infer = kind(show.models, device="cpu", threads=1, stall_s=stall_s, chain=spec)
        made.append(infer)
        # camera frames only unless a test asks for in-betweens (a re-plan of the newest face, between its frames)
        opt = LiveOptions(**{"fps": 30.0, "frames": frames, "on_frame": on_frame, "infer": infer,
                             "stall_s": stall_s or 2.0, "inbetweens": False} | options)
        runner = LiveRunner(None, None, show.conductor, presenter, control, opt)
        return runner, infer

    yield make
    for infer in made:
        infer.close()


def _next_result(runner, seen):
    """The next image the chain thread posts (waits on the results mailbox: no render tick involved)."""
    res, version = runner.results.get(seen, timeout_s=30.0)
    assert res is not None and version > seen, "no image came without a render tick"
    return res, version


@pytest.mark.parametrize("one", [False, True], ids=["two children", "one child"])
def test_each_camera_frame_reaches_its_own_image_without_a_render_tick(chained, one):
    # no idle re-plans (the newest face planned again when no frame came for 50 ms, as on a loaded machine):
    # every image here is a camera frame's own
    runner, infer = chained(partial(SyntheticSource, fps=30, noise_sigma=0.0), one=one, plan_idle_s=5.0)
    assert runner.chained and runner.source is infer.source
    runner.start_workers()  # the chain thread only: the render loop never ticks in this test
    faces = []
    try:
        seen, images = 0, []
        while len(images) < 6:  # the face fades in over reacquire_s (scene mix 0.5): wait until it is well in
            res, seen = _next_result(runner, seen)
            face, _ = runner.faces.peek()  # the newest face: the result's own, unless a newer frame is tracked by now
            if res.plan.jobs[0].mix > 0.25:
                images.append(res)
                faces.append(face if face is not None and face.t_capture_s == res.plan.t_capture_s else None)
    finally:
        runner.stop()
    assert runner.frames_drawn == 0  # not one render tick
    stamps = [r.plan.t_capture_s for r in images]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))  # each image from a newer camera frame than the last
    # the face moved between camera frames (the synthetic head turns and drifts), and each move changed the image
    pairs = [(a, b) for a, b in zip(faces, faces[1:]) if a is not None and b is not None]
    moved = [not np.array_equal(a.landmarks, b.landmarks) for a, b in pairs]
    changed = [not np.array_equal(a.images[0], b.images[0]) for a, b in zip(images, images[1:])]
    assert all(moved) and all(changed)
    assert runner.stats.stats("track", whole_run=True).count >= len(images)  # tracked in the child, timed here
    assert runner.source.status == "ok"


def test_osc_reaches_the_next_camera_frames_image_without_a_render_tick(chained):
    control = ControlState()
    server = OSCServer(control, port=0).start()
    show = SHOW.replace('drive = "both"', 'drive = "latent"')  # only OSC moves the image
    runner, infer = chained(partial(SyntheticSource, fps=30, noise_sigma=0.0), control=control, text=show)
    runner.start_workers()
    try:
        from pythonosc.udp_client import SimpleUDPClient

        seen = 0
        before, seen = _next_result(runner, seen)
        SimpleUDPClient("127.0.0.1", server.port).send_message("/perform/latent/3", 0.95)
        for _ in range(90):  # the chain thread drains the control state when it plans a camera frame (3 s of them)
            after, seen = _next_result(runner, seen)
            if abs(after.plan.jobs[0].latent[3] - (2 * 0.95 - 1) * 3.0) < 1e-3:
                break
        else:
            pytest.fail("the message never reached an image")
    finally:
        runner.stop()
        server.close()
    assert runner.frames_drawn == 0  # not one render tick
    assert np.abs(before.images[0].astype(int) - after.images[0].astype(int)).mean() > 0.5


def test_a_lost_camera_drifts_and_the_show_goes_on(chained):
    plans = []
    runner, infer = chained(partial(SyntheticSource, fps=30, fail_after=5), frames=90,
                            on_frame=lambda n, plan, gen: plans.append(plan))
    runner.run()
    assert runner.frames_drawn == 90
    assert runner.source.status == "lost"  # as the child's source reported it
    assert "drifting" in plans[-1].status
    assert not np.allclose(plans[-1].jobs[0].latent, plans[-20].jobs[0].latent)


@pytest.mark.parametrize("which", ["model", "camera", "one child"])
def test_a_frozen_chained_child_is_killed_restarted_and_tracks_again(chained, caplog, which):
    seen = {"after": 0}

    def on_frame(n, plan, gen):
        if n == 10:
            seen["pid"] = infer.camera.pid if which == "camera" else infer.pid
            os.kill(seen["pid"], signal.SIGSTOP)  # one child: camera, tracker and model frozen at once
        if infer.restarts and gen is not None:
            seen.setdefault("tracked", runner.stats.stats("track", whole_run=True).count)
            if gen.plan.index > seen.setdefault("restart_frame", n):
                seen["after"] += 1
                if seen["after"] >= 5 and runner.stats.stats("track", whole_run=True).count > seen["tracked"]:
                    runner.state.quit = True

    runner, infer = chained(partial(SyntheticSource, fps=30), frames=1200, stall_s=1.0, on_frame=on_frame,
                            one=which == "one child")
    with caplog.at_level(logging.WARNING):
        runner.run()
    pid = infer.camera.pid if which == "camera" else infer.pid
    assert infer.restarts == 1 and pid != seen["pid"]
    assert seen["after"] >= 5 and runner.frames_drawn < 1200  # new images, from faces tracked again
    assert "stalled" in caplog.text and "restarted" in caplog.text
    assert runner.frames_drawn - 10 > 20  # the show kept drawing the last image meanwhile


@pytest.mark.parametrize("which", ["model", "camera"])
def test_quitting_with_a_frozen_chained_child_returns(chained, which):
    def on_frame(n, plan, gen):
        if n == 5:
            os.kill(infer.camera.pid if which == "camera" else infer.pid, signal.SIGSTOP)

    runner, infer = chained(partial(SyntheticSource, fps=30), frames=20, stall_s=None, on_frame=on_frame)
    child = infer.camera.proc if which == "camera" else infer.proc
    runner.run()  # stops its thread: the chain thread must not stay blocked on the child
    closer = threading.Thread(target=infer.close)
    closer.start()
    closer.join(15)
    assert not closer.is_alive(), "quitting hung on a frozen child"
    assert not any(w.alive for w in runner.workers)
    assert child.exitcode is not None


def test_a_source_the_child_cannot_open_fails_before_the_show(staged, setlist_file):
    from perform.errors import PerformError
    from perform.sources.factory import open_source

    show, _ = staged(setlist_file(SHOW))
    spec = ChainSpec(partial(open_source, "synthetic", size=(64, 64), fps=30.0, nonsense=1), FaceTracker)
    with pytest.raises(PerformError, match="could not open the source or the tracker: .*nonsense"):
        ChainedInference(show.models, device="cpu", threads=1, chain=spec)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_chained_show_and_its_child(tmp_path, sig):
    status = tmp_path / "status.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "perform", "live", "--headless", "--source", "synthetic",
                             "--osc-port", "0", "--size", "160x90", "--status-file", str(status)],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        state = {}
        deadline = time.monotonic() + 240.0  # a hang guard while a loaded machine starts torch and MediaPipe
        while not (state.get("generated", 0) >= 10 and state.get("face_index", -1) >= 0):
            assert proc.poll() is None, proc.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "the show never tracked and generated"
            time.sleep(0.05)
            try:
                state = json.loads(status.read_text())
            except (OSError, ValueError):
                pass
        child = state["infer_pid"]  # the model's; the camera's child is its sibling, ended the same way
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert f"stopped by {signal.Signals(sig).name}" in out and "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # the camera's and the model's process ended with the show
        os.kill(child, 0)


def test_a_hot_reload_to_another_model_reaches_the_chained_child(chained, setlist_file):
    from perform.engine.live_show import make_reloader
    from perform.engine.show import build_models

    new_images = []

    def on_frame(n, plan, gen):
        if n == 10:
            path.write_text(path.read_text().replace("/tiny\"", "/tiny-b\""))
        if gen is not None and "tiny-b" in gen.plan.jobs[0].model_key:
            new_images.append(gen.images[0])
            if len(new_images) >= 3:
                runner.state.quit = True

    def reload_models(sl, cache):
        new = build_models(sl, "cpu", cache)
        infer.add_models(new)  # posted: the chain thread sends them before its next plan
        return new

    runner, infer = chained(partial(SyntheticSource, fps=30), frames=900, on_frame=on_frame)
    path = setlist_file(SHOW)  # the file the staged show was built from
    reloader = make_reloader(str(path), runner.program.setlist, runner.program, runner.presenter, reload_models)
    runner.opt.between_frames.append(lambda now: reloader(now + 1.0))  # poll every frame
    runner.run()
    assert reloader.reloads == 1 and infer.restarts == 0
    assert len(new_images) >= 3 and runner.frames_drawn < 900  # images from the new model, made in the same child


WALK = one_scene(drive="latent", seeds="[1, 2]", walk="{ seconds = 0.5 }")  # the latent walks on its own


@pytest.mark.parametrize("inbetweens", [True, False], ids=["in-betweens", "camera frames only"])
def test_a_scene_that_moves_on_its_own_gets_images_between_camera_frames(chained, inbetweens):
    """A 10 fps camera and a 60 Hz display: between two faces the chain thread plans the newest face again a
    display period after its last plan (each image back long before the next frame), and each such image
    differs from the one before, as the keyframe walk moved. Off, each image comes from a new camera frame."""
    runner, infer = chained(partial(SyntheticSource, fps=10, noise_sigma=0.0), text=WALK, fps=60.0,
                            plan_idle_s=5.0, inbetweens=inbetweens)  # no idle re-plans: only in-betweens
    runner.start_workers()
    try:
        seen, images = 0, []
        while len({r.plan.t_capture_s for r in images}) < 8:  # eight camera frames' worth of images
            res, seen = _next_result(runner, seen)
            images.append(res)
    finally:
        runner.stop()
    stamps = [r.plan.t_capture_s for r in images]
    between = [(a, b) for a, b in zip(images, images[1:]) if a.plan.t_capture_s == b.plan.t_capture_s]
    if not inbetweens:
        assert not between and all(b > a for a, b in zip(stamps, stamps[1:]))
        return
    assert len(between) >= len(set(stamps))  # at least one in-between per camera frame, on a busy machine too
    for a, b in between:
        assert b.plan.t_s > a.plan.t_s and not np.array_equal(a.plan.jobs[0].latent, b.plan.jobs[0].latent)
        assert not np.array_equal(a.images[0], b.images[0])


def test_a_frame_asked_ahead_is_tracked_while_the_chain_thread_is_busy(chained):
    """The chain thread may look for a face for less time than a frame takes (an in-between is due): the
    question stays asked, so a frame that comes while the thread generates is tracked at once, not when
    the thread asks again."""
    runner, infer = chained(partial(SyntheticSource, fps=30, noise_sigma=0.0))
    for _ in range(200):  # the child's tracker starts
        obs = infer.track(0.5)
        if obs is not None and obs.frame_index != NO_FRAME_INDEX:
            break
    infer.track(0.0)  # nothing yet (the next frame is up to 33 ms away): asked all the same
    time.sleep(0.2)  # busy: generating, say
    t = time.perf_counter()
    obs = infer.track(0.0)
    assert obs is not None and obs.frame_index != NO_FRAME_INDEX
    assert obs.t_capture_s < t and obs.track_ms > 0  # captured and tracked while the caller was busy
