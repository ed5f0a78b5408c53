"""A scene's keyframe latents as arrays, and the walk through them over scene time."""

from __future__ import annotations

import math

import numpy as np

from perform.setlist.schema import Duration, Scene


def keyframe_latents(scene: Scene, latent_dim: int) -> np.ndarray:
    """(K, Z) float32: the explicit vectors, or one N(0, 1) draw per seed (same seed, same latent, everywhere),
    or a single zero latent (the prior's mean) when the scene names none.

    Raises ValueError when explicit vectors do not match the model's latent size."""
    if scene.keyframes:
        out = np.asarray(scene.keyframes, dtype=np.float32)  # (K, Z)
        if out.shape[1] != latent_dim:
            raise ValueError(f"scene {scene.name!r}: keyframes have {out.shape[1]} values, the model's latent has {latent_dim}")
        return out
    if scene.seeds:
        # PCG64 streams are specified bit for bit, so a seed names the same latent on every machine
        return np.stack([np.random.default_rng(s).standard_normal(latent_dim) for s in scene.seeds]).astype(np.float32)
    return np.zeros((1, latent_dim), dtype=np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation, which keeps Gaussian latents at a typical norm (a straight line dips towards 0)."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-8 or nb < 1e-8:
        return (1.0 - t) * a + t * b
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    if omega < 1e-4 or math.pi - omega < 1e-4:  # parallel or opposite: the great circle is ill-defined
        return (1.0 - t) * a + t * b
    s = math.sin(omega)
    return (math.sin((1.0 - t) * omega) / s) * a + (math.sin(t * omega) / s) * b


def keyframe_walk(latents: np.ndarray, every: Duration | None, scene_time_s: float, scene_beats: float) -> np.ndarray:
    """The scene's base latent (Z,) at its own time: keyframe k for a period, easing into k+1, looping."""
    k = latents.shape[0]
    if k == 1 or every is None:
        return latents[0]
    pos = scene_time_s / every.seconds if every.seconds is not None else scene_beats / every.beats
    i = int(math.floor(pos))
    frac = pos - i
    eased = frac * frac * (3.0 - 2.0 * frac)
    return slerp(latents[i % k], latents[(i + 1) % k], eased)
