"""The live clock, headless: worker threads, fallback when the camera fails, OSC over UDP, hot reload."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from perform.control.osc_server import OSCServer
from perform.control.state import ControlState
from perform.engine.live_clock import LiveOptions, LiveRunner
from perform.engine.show import build_models, build_show
from perform.sources.synthetic import SyntheticSource
from perform.tracking.tracker import FaceTracker
from tests.engine.shows import one_scene

pytestmark = pytest.mark.gl

SHOW = one_scene()


@pytest.fixture
def make_runner(staged):
    """make_runner(path, source, frames, ...) -> (runner, conductor, presenter): a live runner on a staged show."""

    def make(path, source, frames, control=None, hooks=(), on_frame=None, fps=30.0, reply=None, infer=None,
             stall_s=2.0):
        show, presenter = staged(path, control=control, reply=reply)
        opt = LiveOptions(fps=fps, frames=frames, on_frame=on_frame, between_frames=list(hooks), infer=infer,
                          stall_s=stall_s)
        runner = LiveRunner(source, lambda: FaceTracker(crop_size=32), show.conductor, presenter, control, opt)
        return runner, show.conductor, presenter

    return make


def test_runs_tracks_and_stops_every_thread(setlist_file, make_runner):
    before = set(threading.enumerate())
    runner, _, presenter = make_runner(setlist_file(SHOW), SyntheticSource(fps=30), frames=45)
    stats = runner.run()
    assert runner.frames_drawn == 45
    assert stats.stats("track", whole_run=True).count > 3  # the tracking worker delivered observations
    assert stats.stats("infer", whole_run=True).count > 3
    assert not any(w.alive for w in runner.workers)
    assert set(threading.enumerate()) - before == set()


def test_camera_failing_mid_show_falls_back_to_drift_without_stopping(setlist_file, make_runner):
    plans = []
    src = SyntheticSource(fps=30, fail_after=5)
    runner, _, presenter = make_runner(setlist_file(SHOW), src, frames=90,
                                       on_frame=lambda n, plan, gen: plans.append(plan))
    runner.run()
    assert runner.frames_drawn == 90  # the show went on
    assert src.status == "lost"
    assert "drifting" in plans[-1].status
    # and the picture keeps moving on its own: the drift changes the latent from frame to frame
    assert not np.allclose(plans[-1].jobs[0].latent, plans[-20].jobs[0].latent)


class FlakyModel:
    """Wraps a model; its first generate raises, as a CUDA hiccup or a bad tensor would."""

    def __init__(self, model):
        self._m = model
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._m, name)

    def generate(self, *a, **k):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("injected inference failure")
        return self._m.generate(*a, **k)


def test_a_failing_worker_is_restarted_and_the_loop_keeps_drawing(setlist_file, make_runner):
    runner, conductor, presenter = make_runner(setlist_file(SHOW), SyntheticSource(fps=30), frames=40)
    key = next(iter(conductor.models))
    conductor.models[key] = FlakyModel(conductor.models[key])
    runner.run()
    assert runner.frames_drawn == 40
    infer = next(w for w in runner.workers if w.name == "infer")
    assert infer.restarts == 1 and "injected" in str(infer.last_error)
    assert runner.stats.stats("infer", whole_run=True).count > 2  # it went on generating after the failure


def test_escape_quits_only_when_pressed_twice_within_a_second(setlist_file, make_runner):
    runner, _, presenter = make_runner(setlist_file(SHOW), SyntheticSource(), frames=1)
    runner.handle_key("escape", 10.0)
    assert not runner.state.quit
    runner.handle_key("escape", 11.5)  # too late: this one only arms again
    assert not runner.state.quit
    runner.handle_key("escape", 12.2)
    assert runner.state.quit


def test_osc_latent_message_over_udp_changes_the_next_image(setlist_file, make_runner):
    control = ControlState()
    server = OSCServer(control, port=0).start()
    images = []
    sent = {}

    def on_frame(n, plan, gen):
        if gen is not None:
            images.append((n, gen.images[0].copy(), gen.plan.jobs[0].latent.copy()))
        if n == 15:
            SimpleUDPClient("127.0.0.1", server.port).send_message("/perform/latent/3", 0.95)
            sent["frame"] = n

    show = SHOW.replace('drive = "both"', 'drive = "latent"')  # the face does not move the image: only OSC does
    runner, _, presenter = make_runner(setlist_file(show), SyntheticSource(fps=30), frames=60, control=control,
                                       on_frame=on_frame)
    try:
        runner.run()
    finally:
        server.close()
    before = [(img, z) for n, img, z in images if n <= 15]
    after = [(img, z) for n, img, z in images if n > 15 and abs(z[3] - (2 * 0.95 - 1) * 3.0) < 1e-3]
    assert before and after, "the message must reach the latent"
    assert abs(before[-1][1][3] - after[-1][1][3]) > 1.0
    assert np.abs(before[-1][0].astype(int) - after[-1][0].astype(int)).mean() > 0.5


def test_hot_reload_applies_a_good_edit_and_survives_a_broken_one(setlist_file, make_runner):
    from perform.engine.reload import SetlistReloader
    from perform.setlist.watcher import SetlistWatcher

    path = setlist_file(SHOW)
    frames = []
    edits = {}

    def on_frame(n, plan, gen):
        frames.append((n, plan.layers, runner.presenter.read_pixels().copy()))
        if n == 10:
            text = path.read_text().replace("saturation = 1.0", "saturation = 0.0")
            path.write_text(text)
            edits["good"] = n
        if n == 40:
            path.write_text(path.read_text() + "\n[[scene]\nbroken = \n")
            edits["bad"] = n

    runner, conductor, presenter = make_runner(path, SyntheticSource(fps=30), frames=70, on_frame=on_frame)
    reloader = SetlistReloader(SetlistWatcher(path, conductor.setlist), conductor, presenter,
                               lambda sl, cache: build_models(sl, "cpu", cache))
    runner.opt.between_frames.append(lambda now: reloader(0.0 if now < 0 else now + 1.0))  # poll every frame
    runner.run()
    assert runner.frames_drawn == 70  # rendering never stopped
    assert reloader.reloads == 1 and reloader.failures == 1
    assert conductor.reload_error and "show.toml:17" in conductor.reload_error and "syntax" in conductor.reload_error
    spread = lambda img: np.abs(img.astype(int) - img.mean(axis=2, keepdims=True)).mean()
    early, late = frames[5][2], frames[-1][2]
    assert spread(early) > 2 * spread(late) + 0.1  # the edit (saturation 0) reached the screen, and stayed


def test_scene_go_to_an_unknown_scene_is_answered_with_an_error(setlist_file, make_runner):
    from perform.control.events import ControlEvent

    replies = []
    _, conductor, _ = make_runner(setlist_file(SHOW), SyntheticSource(), frames=1,
                                  reply=lambda ev, ok, reason: replies.append((ev.address, ok, reason)))
    conductor.step(0.0, 0, None, [ControlEvent(0.0, "/perform/scene/go", ("nope",))])
    conductor.step(0.1, 1, None, [ControlEvent(0.1, "/perform/scene/go", ("only",))])
    assert replies == [("/perform/scene/go", False, "no scene 'nope'; scenes (from 0): only"),
                       ("/perform/scene/go", True, "")]


def test_scene_go_over_udp_is_answered_once_by_the_engine(setlist_file):
    import socket

    from pythonosc.osc_message import OscMessage

    from perform.control.osc_routes import ENGINE_ANSWERED

    control = ControlState()
    server = OSCServer(control, port=0, engine_answers=ENGINE_ANSWERED).start()
    conductor = build_show(setlist_file(SHOW), device="cpu", control=control, reply=server.reply).conductor
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5.0)
    client = SimpleUDPClient("127.0.0.1", server.port)
    client._sock = rx  # send from a bound port so the replies come back to us
    try:
        for i, scene in enumerate(("nope", "only")):
            client.send_message("/perform/scene/go", scene)
            events = []
            while not events:  # the show's next frame drains it
                events = control.drain(control.now())
            conductor.step(0.1 * i, i, None, events)
        client.send_message("/perform/tempo", 900.0)  # refused at the door: a marker that ends the replies
        replies = []
        while not replies or replies[-1][0] != "/perform/reply/perform/tempo":
            msg = OscMessage(rx.recvfrom(65536)[0])
            replies.append((msg.address, msg.params))
    finally:
        server.close()
        rx.close()
    assert replies[:2] == [("/perform/reply/perform/scene/go", ["error", "no scene 'nope'; scenes (from 0): only"]),
                           ("/perform/reply/perform/scene/go", ["ok"])]
    assert len(replies) == 3


def _runner_with_process(make_runner, path, stall_s, on_frame, frames):
    from perform.engine.inference_process import InferenceProcess

    show = build_show(path, device="cpu")
    infer = InferenceProcess(show.models, device="cpu", threads=1, stall_s=stall_s)
    runner, _, presenter = make_runner(path, SyntheticSource(fps=30), frames=frames, on_frame=on_frame, infer=infer,
                                       stall_s=stall_s if stall_s is not None else 2.0)
    return runner, presenter, infer


def test_a_frozen_inference_process_is_noted_killed_and_restarted_while_the_show_draws(setlist_file, make_runner, caplog):
    import os
    import signal

    seen = {"notes": [], "after": 0}

    def on_frame(n, plan, gen):
        if n == 10:
            seen["pid"] = infer.pid
            os.kill(seen["pid"], signal.SIGSTOP)  # a frozen child: no answer, no exit
        if "pid" in seen:
            seen["notes"].append(" ".join(runner._hud_cache))  # the HUD lines drawn this frame
            if infer.restarts and gen is not None and gen.plan.index > seen.setdefault("restart_frame", n):
                seen["after"] += 1
                if seen["after"] >= 5:
                    runner.state.quit = True

    runner, presenter, infer = _runner_with_process(make_runner, setlist_file(SHOW), 1.0, on_frame, frames=900)
    try:
        with caplog.at_level(logging.WARNING):
            runner.run()
    finally:
        infer.close()
    assert infer.restarts == 1 and seen["after"] >= 5, "new images after a restart"
    assert runner.frames_drawn < 900
    assert any("stalled" in n and "restart" in n for n in seen["notes"])  # the HUD said why the image was held
    assert "stalled" in caplog.text and "restarted" in caplog.text
    assert runner.frames_drawn - 10 > 30  # the show kept drawing the last image meanwhile


def test_quitting_with_a_frozen_inference_process_returns(setlist_file, make_runner):
    import os
    import signal

    def on_frame(n, plan, gen):
        if n == 5:
            os.kill(infer.pid, signal.SIGSTOP)

    runner, presenter, infer = _runner_with_process(make_runner, setlist_file(SHOW), None, on_frame, frames=20)
    child = infer.proc
    runner.run()  # stops its workers: the infer worker must not stay blocked on the child
    closer = threading.Thread(target=infer.close)
    closer.start()
    closer.join(15)
    assert not closer.is_alive(), "quitting hung on a frozen child"
    assert not any(w.alive for w in runner.workers)
    assert child.exitcode is not None  # nothing left for the interpreter's exit to wait on forever


def test_osc_reaches_a_shader_pass_that_a_hot_reload_added(setlist_file, staged):
    from perform.control.osc_routes import Rejected, Router
    from perform.engine.live_show import declare_controls, make_reloader

    path = setlist_file(SHOW)
    show, presenter = staged(path)
    router = Router()
    declare_controls(router, show.conductor)
    reloader = make_reloader(str(path), show.setlist, show.conductor, presenter,
                             lambda s, cache: build_models(s, "cpu", cache), router)
    with pytest.raises(Rejected, match="no shader parameter pix.size"):
        router.route("/perform/shader/pix/size", (0.5,), 0.0)
    path.write_text(path.read_text() + '[[scene.shader]]\ntype = "pixelate"\nname = "pix"\n')
    reloader(1.0)
    assert reloader.reloads == 1
    assert [e.address for e in router.route("/perform/shader/pix/size", (0.5,), 0.0)] == ["/perform/shader/pix/size"]
    assert "/perform/shader/pix/size" in router.concrete_addresses()  # wildcards reach it too
    path.write_text(path.read_text().replace('[[scene.shader]]\ntype = "pixelate"\nname = "pix"\n', ""))
    reloader(2.0)
    with pytest.raises(Rejected):  # and a pass the next edit removes is refused again
        router.route("/perform/shader/pix/size", (0.5,), 0.0)


class HandSource:
    """A camera the test advances by hand: read() hands over the frames the test put, one each."""

    name = "hand"
    status = "ok"

    def __init__(self) -> None:
        import queue

        self.frames = queue.Queue()

    def read(self, timeout_s):
        import queue

        try:
            return self.frames.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def close(self) -> None:
        pass


def _next_result(runner, seen):
    """The next image the infer worker posts (waits on the results mailbox: no render tick involved)."""
    res, version = runner.results.get(seen, timeout_s=30.0)
    assert res is not None and version > seen, "no image came without a render tick"
    return res, version


def test_a_moved_face_reaches_the_next_image_without_a_render_tick(setlist_file, make_runner):
    from perform.sources.frame import Frame

    synth = SyntheticSource(fps=30, noise_sigma=0.0)
    still, moved = synth.image_at(0.0), synth.image_at(0.2)  # a fifth of a second on, the face has moved
    src = HandSource()
    runner, _, _ = make_runner(setlist_file(SHOW), src, frames=None)
    runner.opt.idle_emit_s = float("inf")  # no stand-in observation while the test waits: only the test's frames
    runner.start_workers()  # the workers only: the render loop never ticks in this test
    try:
        seen, n, last = 0, 0, None
        while last is None or last.plan.jobs[0].mix < 0.25:  # the face fades in over reacquire_s (scene mix 0.5)
            assert n < 60, "the face never came in"
            src.frames.put(Frame(still, 1000.0 + n / 30, n))
            last, seen = _next_result(runner, seen)  # each camera frame makes its own image
            n += 1
        src.frames.put(Frame(moved, 1000.0 + n / 30, n))
        after, _ = _next_result(runner, seen)
    finally:
        runner.stop()
    assert after.plan.t_capture_s == 1000.0 + n / 30  # the next image is the moved face's
    assert not np.array_equal(last.images[0], after.images[0])  # and the move changed it


def test_the_same_inputs_are_never_generated_twice(setlist_file, make_runner):
    from dataclasses import replace

    runner, conductor, _ = make_runner(setlist_file(SHOW), HandSource(), frames=None)
    first = conductor.step(1.0, 0, None, [], "ok")
    # a later plan asking for the same image (a tick whose key press changed nothing): equal, not the same arrays
    again = replace(first, index=1, t_s=1.5, jobs=(replace(first.jobs[0], latent=first.jobs[0].latent.copy()),))
    moved = replace(again, jobs=(replace(again.jobs[0], latent=again.jobs[0].latent + 1.0),))
    for plan in (first, again, moved):
        runner.plans.put(plan)
        runner._infer_step()  # the infer worker's step, on this thread: each plan is taken up in turn
    assert runner.stats.stats("infer", whole_run=True).count == 2  # first and moved; again was the image already made
    assert runner.results.peek()[0].plan is moved


def test_a_hot_reload_that_loads_a_model_never_stops_the_show(setlist_file, make_runner):
    """An edit naming a model not loaded yet: its load runs off the render thread (here it takes until the
    show has drawn five more frames, or 10 s), the show draws meanwhile, and the new model's images follow."""
    from perform.engine.live_show import make_reloader
    from perform.engine.show import models_to_load

    loading, drawn_while_loading, new_model = threading.Event(), threading.Event(), []
    count = [0]

    def slow_build(sl, cache):
        models = build_models(sl, "cpu", cache)
        if models_to_load(sl, cache):  # a large model: the load is not done until the show drew on
            loading.set()
            drawn_while_loading.wait(10.0)
        return models

    def on_frame(n, plan, gen):
        if n == 5:
            path.write_text(path.read_text().replace("/tiny\"", "/tiny-b\""))
        if loading.is_set() and not drawn_while_loading.is_set():
            count[0] += 1
            if count[0] >= 5:
                drawn_while_loading.set()
        if gen is not None and "tiny-b" in gen.plan.jobs[0].model_key:
            new_model.append(n)
            runner.state.quit = True

    path = setlist_file(SHOW)
    runner, conductor, presenter = make_runner(path, SyntheticSource(fps=30), frames=600, on_frame=on_frame)
    reloader = make_reloader(str(path), conductor.setlist, conductor, presenter, slow_build,
                             needs_loading=lambda sl, cache: bool(models_to_load(sl, cache)))
    runner.opt.between_frames.append(lambda now: reloader(now + 1.0))  # poll every frame
    runner.run()
    assert count[0] >= 5  # five frames drawn while the model loaded
    assert reloader.reloads == 1 and not reloader.loading and new_model  # then the new model's images
