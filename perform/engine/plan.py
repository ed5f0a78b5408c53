"""The messages of one frame between the conductor, the inference stage and the renderer."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from perform.nets.model import GenerativeModel


@dataclass(frozen=True, slots=True, eq=False)
class GenJob:
    """One image to generate: which model, the control latent (Z,), and the face crop to mix in.

    net: the live network parameters (bends, blend, trajectory) as sorted (name, value) pairs; names the
    model does not declare are ignored, names left out take the model's defaults."""

    model_key: str
    latent: np.ndarray
    crop: np.ndarray | None = None
    mix: float = 0.0
    pair: tuple[str, float, float] | None = None  # a pair model's (mode, crossfade, snapshot position)
    net: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Layer:
    """One picture the audience sees: a scene's image (jobs[job]) through that scene's shader chain.

    scene: whose layer it is; the presenter keeps each scene on its own copy of the chain, so two scenes
    with the same chain can be on screen at once, and a chain's state (feedback trails) follows its scene.
    params: {(pass name, param): value}, applied every frame (cheap).
    """

    chain: str
    scene: str
    job: int = 0
    params: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class FramePlan:
    """What frame `index` at time `t_s` should show.

    jobs: the images to generate; two during a crossfade between scenes, one for a latent transition.
    layers: what is drawn; two during any transition between scenes with a fade (a crossfade, or a latent
      transition between different chains, whose one image goes through both chains).
    fade: 0 shows layer 0 only; 1 shows layer 1 only (the transition's position after its curve).
    t_capture_s: capture time of the face data behind it (nan if none): for camera-to-screen latency.
    """

    index: int
    t_s: float
    jobs: tuple[GenJob, ...]
    layers: tuple[Layer, ...]
    fade: float = 0.0
    t_capture_s: float = math.nan
    scene: str = ""
    freeze: bool = False
    blackout: bool = False
    status: str = ""  # a line for the HUD (transition, drifting, ...)


@dataclass(frozen=True, slots=True, eq=False)
class Generated:
    """The inference stage's result for a plan; `images` matches plan.jobs."""

    plan: FramePlan
    images: tuple[np.ndarray, ...]
    infer_ms: float
    t_done_s: float  # when it reached the show (perf_counter; a child's image: when it came back from the child)


def generate(plan: FramePlan, models: Mapping[str, GenerativeModel]) -> Generated:
    """Run every job of a plan (the inference stage; torch lives below this call)."""
    t0 = time.perf_counter()
    images = tuple(_generate(models[j.model_key], j) for j in plan.jobs)
    t1 = time.perf_counter()
    return Generated(plan, images, (t1 - t0) * 1000.0, t1)


def _generate(model: GenerativeModel, job: GenJob) -> np.ndarray:
    """One job's image; for a pair shown side by side, both images stacked (2, R, R, 3): the renderer
    puts them in its two source slots and the side_by_side shader lays them out."""
    if hasattr(model, "set_net_params"):  # every job sets them all: what a job leaves out is the default
        model.set_net_params(dict(job.net))
    if job.pair is not None:  # only the inference thread sets these, right before it generates
        mode, crossfade, snapshot = job.pair
        model.set_snapshot_position(snapshot)
        if mode == "side_by_side":
            return np.stack(model.generate_pair(job.latent))
        model.set_mode(mode, crossfade)
    return model.generate(job.latent, job.crop, job.mix)
