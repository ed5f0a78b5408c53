"""Fixtures for engine tests: a small untrained checkpoint on disk, setlists that use it, a GL context."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from perform.nets.checkpoint import save_checkpoint
from perform.nets.vaegan import VAEGAN, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=16, width=16, max_channels=64)


def write_model(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = VAEGAN(CFG, with_critic=False)
    with torch.no_grad():  # random weights give a nearly flat grey; a high-gain output layer shows the latent
        net.generator.to_rgb.weight.mul_(30.0)
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
    save_checkpoint(path, tensors, {"kind": "vaegan", "name": path.stem, "config": CFG.to_dict(), "untrained": True,
                                    "directions": {"mouth_open": [1.0] + [0.0] * (CFG.latent_dim - 1)}})
    return path.with_suffix(".json")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("models")
    write_model(d / "tiny", seed=0)
    write_model(d / "tiny-b", seed=1)
    return d


@pytest.fixture
def setlist_file(tmp_path, model_dir):
    """Write a setlist (TOML text, with {models} replaced) and return its path."""

    def write(text: str, name: str = "show.toml") -> Path:
        p = tmp_path / name
        p.write_text(text.replace("{models}", str(model_dir)))
        return p

    return write


@pytest.fixture(scope="module")
def gl():
    from perform.render.context import create_headless_context

    ctx = create_headless_context()
    yield ctx
    ctx.release()


@pytest.fixture
def staged(gl):
    """Builds a show on the CPU (`build_show`) and a headless presenter for it: `staged(path, control=..., reply=...)`
    returns (show, presenter). Every presenter made is closed after the test."""
    from perform.engine.presenter import ChainPresenter
    from perform.engine.show import build_show

    made = []

    def build(path, *, control=None, reply=None, hot_reload: bool = True):
        show = build_show(path, device="cpu", control=control, reply=reply)
        presenter = ChainPresenter(gl, show.setlist.show.size, show.conductor, hot_reload=hot_reload)
        made.append(presenter)
        return show, presenter

    yield build
    for presenter in made:
        presenter.close()


@pytest.fixture
def render(staged):
    """render(path, frames, events=(), face=None, pipelined=False) -> [(pixels, plan)]: every frame of a fixed-clock
    run of the setlist at `path` (pipelined: the model in a child process, as `perform rehearse` runs it)."""
    from perform.engine.fixed_clock import EventTimeline, FixedOptions, run_fixed

    def run(path, frames: int, events=(), face=None, pipelined: bool = False):
        timeline = EventTimeline(events)
        show, presenter = staged(path, control=timeline.control, hot_reload=False)
        infer = None
        if pipelined:
            from perform.engine.inference_process import InferenceProcess

            infer = InferenceProcess(show.models, device="cpu", threads=1)
        out = []
        try:
            run_fixed(show.conductor, presenter, face, timeline, FixedOptions(show.setlist.show.fps, 0, frames),
                      on_frame=lambda n, px, plan: out.append((px.copy(), plan)), infer=infer)
        finally:
            if infer is not None:
                infer.close()
        return out

    return run
