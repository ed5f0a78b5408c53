"""Inference in a child process gives the same images as in this one, and survives the child dying."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading

import numpy as np
import pytest

from perform.engine.inference_process import InferenceProcess, InferenceStalled
from perform.engine.plan import FramePlan, GenJob, Layer, generate
from perform.nets.model import load_model


@pytest.fixture(scope="module")
def proc_and_models(model_dir):
    models = {"a": load_model(model_dir / "tiny", "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1)
    yield proc, models
    proc.close()


def plan_for(z, crop=None, mix=0.0):
    return FramePlan(0, 0.0, (GenJob("a", z, crop, mix),), (Layer("k", "s"),))


def test_same_images_as_in_process(proc_and_models):
    proc, models = proc_and_models
    rng = np.random.default_rng(0)
    z = rng.standard_normal(16).astype(np.float32)
    crop = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    for plan in (plan_for(z), plan_for(z, crop, 0.7)):
        remote = proc.generate(plan)
        local = generate(plan, models)
        assert remote.plan is plan and remote.infer_ms > 0
        assert np.array_equal(remote.images[0], local.images[0])


def test_a_dead_child_is_restarted_with_its_models(proc_and_models):
    proc, models = proc_and_models
    z = np.zeros(16, np.float32)
    proc.proc.kill()
    proc.proc.join(5)
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        proc.generate(plan_for(z))
    proc.restart()  # what the live clock's infer worker does after the error
    assert np.array_equal(proc.generate(plan_for(z)).images[0], generate(plan_for(z), models).images[0])


def test_an_error_in_the_child_comes_back_as_an_exception(proc_and_models):
    proc, _ = proc_and_models
    with pytest.raises(RuntimeError, match="KeyError"):
        proc.generate(FramePlan(0, 0.0, (GenJob("missing", np.zeros(16, np.float32)),), (Layer("k", "s"),)))
    assert proc.generate(plan_for(np.zeros(16, np.float32))).images[0].shape == (32, 32, 3)  # and it carries on


def test_a_model_that_raises_in_the_child_reports_and_the_child_carries_on(proc_and_models):
    proc, _ = proc_and_models
    pid, restarts = proc.pid, proc.restarts
    with pytest.raises(RuntimeError, match="inference process: RuntimeError"):  # torch: wrong latent size
        proc.generate(plan_for(np.zeros(7, np.float32)))
    assert proc.pid == pid  # an error is not a death: no restart
    proc.restart()  # what the worker's recovery hook does after any error: nothing here
    assert proc.pid == pid and proc.restarts == restarts
    assert proc.generate(plan_for(np.zeros(16, np.float32))).images[0].shape == (32, 32, 3)


def test_the_child_ignores_ctrl_c(proc_and_models):
    proc, models = proc_and_models
    pid = proc.pid
    os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the whole foreground process group
    z = np.zeros(16, np.float32)
    assert np.array_equal(proc.generate(plan_for(z)).images[0], generate(plan_for(z), models).images[0])
    assert proc.pid == pid


def test_models_added_from_another_thread_reach_the_child_without_scrambling_the_pipe(model_dir):
    models = {"a": load_model(model_dir / "tiny", "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1)
    try:
        z = np.full(16, 0.3, np.float32)
        want = generate(plan_for(z), models).images[0]
        results, errors = [], []
        adding = threading.Event()

        def owner():  # the live clock's infer worker: the pipe's only user
            for i in range(150):
                if i == 5:
                    adding.set()
                try:
                    results.append(np.array_equal(proc.generate(plan_for(z)).images[0], want))
                except Exception as exc:
                    errors.append(exc)

        t = threading.Thread(target=owner)
        t.start()
        adding.wait(30)
        os.kill(proc.pid, signal.SIGSTOP)  # a slow child: the hot reload must not wait on it
        try:
            added = threading.Thread(target=proc.add_models, args=({"b": load_model(model_dir / "tiny-b", "cpu")},))
            added.start()
            added.join(5)
            assert not added.is_alive(), "adding a model waited on the child"
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        t.join(60)
        assert not errors and all(results) and len(results) == 150
        local_b = generate(FramePlan(0, 0.0, (GenJob("b", z),), (Layer("k", "s"),)), {"b": load_model(model_dir / "tiny-b", "cpu")})
        remote_b = proc.generate(FramePlan(0, 0.0, (GenJob("b", z),), (Layer("k", "s"),)))
        assert np.array_equal(remote_b.images[0], local_b.images[0])
    finally:
        proc.close()


def test_a_frozen_child_is_killed_by_the_watchdog_and_restarted(model_dir, caplog):
    models = {"a": load_model(model_dir / "tiny", "cpu")}
    proc = InferenceProcess(models, device="cpu", threads=1, stall_s=1.0)
    try:
        z = np.zeros(16, np.float32)
        old = proc.pid
        os.kill(old, signal.SIGSTOP)
        with caplog.at_level(logging.WARNING, "perform.engine.inference_process"):
            with pytest.raises(InferenceStalled):
                proc.generate(plan_for(z))
        assert "stalled" in caplog.text and "stalled" in proc.note
        proc.restart()  # the infer worker's recovery hook
        assert proc.pid not in (None, old) and proc.restarts == 1
        assert np.array_equal(proc.generate(plan_for(z)).images[0], generate(plan_for(z), models).images[0])
        assert "restarted" in proc.note  # on the HUD a little while, however fast the restart was
        proc._note_until = 0.0  # ... then gone with the next image
        proc.generate(plan_for(z))
        assert proc.note == ""
    finally:
        proc.close()


def test_closing_a_frozen_child_returns_and_leaves_no_process(model_dir):
    proc = InferenceProcess({"a": load_model(model_dir / "tiny", "cpu")}, device="cpu", threads=1)
    child = proc.proc
    os.kill(proc.pid, signal.SIGSTOP)
    closer = threading.Thread(target=proc.close)
    closer.start()
    closer.join(15)
    assert not closer.is_alive(), "close() hung on a frozen child"
    # a stopped child left behind makes the interpreter's exit (multiprocessing joins its children) hang
    assert child.exitcode is not None and proc.pid is None
    assert child not in multiprocessing.active_children()


def test_no_restart_once_closing_has_begun(model_dir):
    proc = InferenceProcess({"a": load_model(model_dir / "tiny", "cpu")}, device="cpu", threads=1)
    try:
        proc.begin_close()  # shutdown (Ctrl-C, Esc) has begun
        proc.proc.kill()
        proc.proc.join(5)
        with pytest.raises(RuntimeError):
            proc.generate(plan_for(np.zeros(16, np.float32)))
        proc.restart()
        assert proc.pid is None and proc.restarts == 0
    finally:
        proc.close()
