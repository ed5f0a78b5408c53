"""The inference stage in a child process, for the live clock.

In one process, torch re-takes the GIL between every operator; with the render loop and MediaPipe busy
in the same interpreter, each hand-over can wait a whole switch interval, and a 24 ms decode took
60-110 ms (measured on 2 cores). A child process has its own GIL: the parent's infer thread only waits
on a pipe (which releases the GIL) while the child runs torch at full speed.

Requests carry the jobs of a plan (latents, crops, mix, pair options); replies carry the images.
Models are rebuilt in the child from their specs (a checkpoint path, or an untrained configuration and
seed); nothing is pickled from a model file.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from typing import Any, Mapping

import numpy as np

from perform.engine.plan import FramePlan, GenJob, Generated
from perform.errors import PerformError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # importing torch and loading models in a fresh interpreter


def model_spec(model: Any) -> tuple:
    """How the child rebuilds a model: ('path', card path) or ('untrained', config dict, seed)."""
    spec = getattr(model, "spec", None)
    if spec is None:
        raise PerformError(f"model {model.info.name}: no spec to rebuild it in the inference process")
    return spec


def _build(spec: tuple, device: str):
    from perform.nets.model import load_model, random_vaegan
    from perform.nets.vaegan import VAEGANConfig

    if spec[0] == "path":
        return load_model(spec[1], device)
    if spec[0] == "untrained":
        return random_vaegan(VAEGANConfig.from_dict(spec[1]), seed=spec[2], device=device)
    raise ValueError(f"unknown model spec {spec!r}")


def _serve(conn, specs: dict[str, tuple], device: str, threads: int | None) -> None:
    """The child's loop: ('load', specs) | ('jobs', [GenJob...]) | ('stop',)."""
    import torch

    from perform.engine.plan import _generate

    if threads:
        torch.set_num_threads(threads)
    models: dict[str, Any] = {}
    try:
        for key, spec in specs.items():
            models[key] = _build(spec, device)
            models[key].generate(np.zeros(models[key].latent_dim, np.float32))  # warm up
        conn.send(("ready", None))
    except Exception as exc:  # report and end: the parent names it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        kind = msg[0]
        if kind == "stop":
            conn.close()
            os._exit(0)  # nothing to save here, and the interpreter's teardown of torch takes seconds
        try:
            if kind == "load":
                for key, spec in msg[1].items():
                    if key not in models:
                        models[key] = _build(spec, device)
                conn.send(("ok", None))
            elif kind == "jobs":
                t0 = time.perf_counter()
                images = tuple(_generate(models[j.model_key], j) for j in msg[1])
                conn.send(("images", (images, (time.perf_counter() - t0) * 1000.0)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class InferenceProcess:
    """generate(plan) in a child process. One caller at a time (the live clock's infer worker)."""

    def __init__(self, models: Mapping[str, Any], device: str = "cpu", threads: int | None = 1) -> None:
        self._device = device
        self._threads = threads
        self._specs = {k: model_spec(m) for k, m in models.items()}
        self._start()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")  # a clean interpreter: no inherited threads, GL context or locks
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, self._specs, self._device, self._threads),
                                name="perform-infer", daemon=True)
        self.proc.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT_S):
            self.close()
            raise PerformError(f"the inference process did not start within {START_TIMEOUT_S:.0f} s")
        kind, detail = self._recv()
        if kind != "ready":
            self.close()
            raise PerformError(f"the inference process could not load the models: {detail}")

    def _recv(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc

    def _send(self, msg: tuple) -> None:
        try:
            self._conn.send(msg)
        except (OSError, ValueError) as exc:  # broken pipe: the child is gone
            raise self._died() from exc

    def _died(self) -> RuntimeError:
        self.proc.join(0.5)
        return RuntimeError(f"the inference process ended unexpectedly (exit code {self.proc.exitcode})")

    def sync(self, models: Mapping[str, Any]) -> None:
        """Load models a hot reload added (those already there are kept)."""
        new = {k: model_spec(m) for k, m in models.items() if k not in self._specs}
        if not new:
            return
        self._send(("load", new))
        kind, detail = self._recv()
        if kind != "ok":
            raise PerformError(f"the inference process could not load the new models: {detail}")
        self._specs.update(new)

    def generate(self, plan: FramePlan) -> Generated:
        self.submit(plan)
        return self.collect(plan)

    def submit(self, plan: FramePlan) -> None:
        """Send a plan's jobs without waiting; results come back in the order submitted (`collect`)."""
        self._send(("jobs", [GenJob(j.model_key, j.latent, j.crop, j.mix, j.pair) for j in plan.jobs]))

    def collect(self, plan: FramePlan) -> Generated:
        """The images of the oldest plan submitted and not yet collected (which must be `plan`)."""
        kind, detail = self._recv()
        if kind != "images":
            raise RuntimeError(f"inference process: {detail}")
        images, infer_ms = detail
        return Generated(plan, images, infer_ms, time.perf_counter())

    def restart(self) -> None:
        """After the child died (the worker's recovery hook): a fresh one with the same models."""
        if self.proc.is_alive():
            return
        log.warning("restarting the inference process (it ended with exit code %s)", self.proc.exitcode)
        self._conn.close()
        self._start()

    def close(self) -> None:
        if self.proc.is_alive():
            try:
                self._conn.send(("stop",))
            except (OSError, ValueError):
                pass
            self.proc.join(2.0)
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(1.0)
        self._conn.close()
