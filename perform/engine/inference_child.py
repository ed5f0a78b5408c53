"""The child side of the inference process: rebuild the models, then answer requests until told to stop.

Module-level imports are the standard library only: the child ignores SIGINT before it imports torch
(seconds), so a Ctrl-C meant for the show's parent, which owns shutdown, ends nothing here and prints
no traceback.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

# Requests (parent -> child) and replies (child -> parent); each request gets exactly one reply.
#   ('load', {key: spec})  -> ('loaded', {key: error message or None})
#   ('jobs', [GenJob ...]) -> ('images', (images, infer_ms)) | ('error', message)
#   ('face', wait_s)       -> ('face', (FaceObservation | None, source status)) | ('error', message)
#                             (chained: the next camera frame tracked, waiting at most wait_s for it)
#   ('stop',)              -> (none: the child ends)
# First message from the child: ('ready', None) | ('error', message) | ('chain_error', message).


def build(spec: tuple, device: str):
    """A model from its spec: ('path', card path, precision), ('untrained', config dict, seed, precision),
    ('declared', ...: a setlist scene's blend or trajectory, perform.nets.declared) or ('bent', the inner model's
    spec, bends as plain tuples)."""
    # torch comes with these: never at module level here (see the module docstring: SIGINT is ignored first)
    from perform.nets.bending.bent import bend_model, bend_specs_from
    from perform.nets.declared import model_from_spec
    from perform.nets.model import load_model, random_vaegan
    from perform.nets.vaegan import VAEGANConfig

    if spec[0] == "path":
        return load_model(spec[1], device, spec[2])
    if spec[0] == "declared":
        return model_from_spec(spec, device)
    if spec[0] == "bent":
        return bend_model(build(spec[1], device), bend_specs_from(spec[2]))
    if spec[0] == "untrained":
        return random_vaegan(VAEGANConfig.from_dict(spec[1]), seed=spec[2], device=device, precision=spec[3])
    raise ValueError(f"unknown model spec {spec!r}")


def _load(spec: tuple, device: str):
    import numpy as np

    model = build(spec, device)
    model.generate(np.zeros(model.latent_dim, np.float32))  # first inferences are slow: not during the show
    return model


def _open_feed(chain):
    """The source and the tracker of a chained child (engine/chain.py)."""
    # after SIGINT is ignored, like every other import here (the tracker's cv2 comes with these)
    from perform.engine.chain import ChainFeed
    from perform.render.context import load_llvm_users_first

    load_llvm_users_first()  # MediaPipe may load Mesa's LLVM: triton's must come first (render/context.py)
    return ChainFeed(chain)


def serve(conn, specs: dict[str, tuple], device: str, threads: int | None, chain=None) -> None:
    """The child's loop (the target of the spawned process). chain: a ChainSpec when the child also captures
    and tracks (engine/chain.py)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent owns shutdown: it sends 'stop', or ends us
    import torch  # only now that SIGINT is ignored (see the module docstring)

    from perform.engine.plan import _generate  # imports torch too: after SIGINT is ignored

    if threads:
        torch.set_num_threads(threads)
    models: dict[str, Any] = {}
    built = dict(specs)  # key -> the spec its model was built from: a changed one is built again
    try:
        for key, spec in specs.items():
            models[key] = _load(spec, device)
    except Exception as exc:  # report and end: the parent names it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    feed = None
    if chain is not None:
        try:
            feed = _open_feed(chain)
        except Exception as exc:
            conn.send(("chain_error", f"{type(exc).__name__}: {exc}"))
            return
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        kind = msg[0]
        if kind == "stop":
            if feed is not None:
                try:  # a camera is let go before the process ends, so the next show can open it
                    feed.close()
                except Exception:
                    pass
            conn.close()
            os._exit(0)  # nothing to save here, and the interpreter's teardown of torch takes seconds
        if kind == "load":
            errors: dict[str, str | None] = {}
            for key, spec in msg[1].items():
                try:
                    if key not in models or built.get(key) != spec:
                        models[key] = _load(spec, device)
                        built[key] = spec
                    errors[key] = None
                except Exception as exc:  # one bad model must not cost the others
                    errors[key] = f"{type(exc).__name__}: {exc}"
            conn.send(("loaded", errors))
        elif kind == "jobs":
            try:
                t0 = time.perf_counter()
                images = tuple(_generate(models[j.model_key], j) for j in msg[1])
                conn.send(("images", (images, (time.perf_counter() - t0) * 1000.0)))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
        elif kind == "face" and feed is not None:
            try:
                obs = feed.next(msg[1])
                conn.send(("face", (obs, feed.status)))
            except Exception as exc:  # the tracker is rebuilt on the next request (ChainFeed.next)
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("error", f"unknown request {kind!r}"))
