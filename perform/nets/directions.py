"""Named latent directions for a trained VAE-GAN: PCA of encoder means, SeFa, and face-feature regressions.

Stored in the model card as {"directions": {name: {"vector": [...], "kind": "pca|sefa|feature", "score": s}}}
(perform.nets.generative.card_directions reads them). Scores: explained-variance fraction (pca, sefa) or
cross-validated R^2 of the linear fit (feature).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from perform.nets.vaegan import Encoder, Generator, images_to_tensor

# the face features a direction is fitted for (position and size are normalised away by the aligner)
FEATURES = ("mouth_open", "yaw", "pitch", "roll", "brow_raise", "eye_open_left", "eye_open_right")


def _canonical_sign(v: np.ndarray) -> np.ndarray:
    """Eigenvectors have no sign; pick the one whose largest component is positive, so reruns agree."""
    return v if v[np.argmax(np.abs(v))] >= 0 else -v


def _entry(vector: np.ndarray, kind: str, score: float) -> dict[str, Any]:
    v = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return {"vector": [round(float(x), 6) for x in v], "kind": kind, "score": round(float(score), 4)}


@torch.no_grad()
def encode_means(encoder: Encoder, images_u8: np.ndarray, batch: int = 64) -> np.ndarray:
    """(N, R, R, 3) uint8 crops -> (N, Z) float64 encoder means (eval mode)."""
    was_training = encoder.training
    encoder.eval()
    dev = next(encoder.parameters()).device
    try:
        out = [encoder(images_to_tensor(images_u8[i:i + batch], dev))[0].double().cpu() for i in range(0, len(images_u8), batch)]
    finally:
        encoder.train(was_training)
    return torch.cat(out).numpy()


def pca_directions(means: np.ndarray, k: int = 8) -> dict[str, dict[str, Any]]:
    """pc0..pc{k-1}: principal axes of the encoder means, scored by explained variance fraction."""
    x = means - means.mean(0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s ** 2
    frac = var / max(float(var.sum()), 1e-12)
    return {f"pc{i}": _entry(_canonical_sign(vt[i]), "pca", frac[i]) for i in range(min(k, len(vt)))}


def sefa_directions(generator: Generator, k: int = 8) -> dict[str, dict[str, Any]]:
    """sefa0..: Shen & Zhou's closed-form factorisation: top eigenvectors of W^T W for the first layer's
    weight W (out, Z) - the latent moves the generator's first layer responds to most. Score: eigenvalue fraction."""
    w = generator.fc.weight.detach().double().cpu().numpy()  # (C0*16, Z)
    evals, evecs = np.linalg.eigh(w.T @ w)                   # ascending
    order = np.argsort(evals)[::-1]
    frac = evals[order] / max(float(evals.sum()), 1e-12)
    return {f"sefa{i}": _entry(_canonical_sign(evecs[:, order[i]]), "sefa", frac[i]) for i in range(min(k, len(order)))}


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    mx, my = x.mean(0), y.mean()
    xc = x - mx
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ (y - my))
    return w, float(my - mx @ w)


def feature_directions(means: np.ndarray, features: np.ndarray, names: tuple[str, ...], wanted: tuple[str, ...] = FEATURES,
                       folds: int = 5, ridge: float = 1.0, min_samples: int = 20) -> dict[str, dict[str, Any]]:
    """For each wanted face feature: the latent direction that increases it (ridge regression of the feature
    on the encoder means; the weight vector, normalised), scored by the k-fold cross-validated R^2.

    features: (N, F) with NaN where a crop has no value; names: the F feature names."""
    out: dict[str, dict[str, Any]] = {}
    rng = np.random.default_rng(0)
    for name in wanted:
        if name not in names:
            continue
        y = features[:, names.index(name)].astype(np.float64)
        ok = np.isfinite(y)
        if ok.sum() < min_samples or np.std(y[ok]) < 1e-6:
            continue
        x, yy = means[ok], y[ok]
        perm = rng.permutation(len(yy))
        pred = np.empty_like(yy)
        for f in range(folds):  # held-out predictions, so a latent that merely memorises scores ~0
            test = perm[f::folds]
            train = np.setdiff1d(perm, test)
            w, b = _ridge(x[train], yy[train], ridge)
            pred[test] = x[test] @ w + b
        r2 = 1.0 - float(((yy - pred) ** 2).sum()) / max(float(((yy - yy.mean()) ** 2).sum()), 1e-12)
        w, _ = _ridge(x, yy, ridge)
        if np.linalg.norm(w) > 0:
            out[name] = _entry(w, "feature", max(r2, -1.0))
    return out


def latent_stats(means: np.ndarray) -> dict[str, list[float]]:
    """Mean and spread of the encoder means over the data: where the faces live in the latent space (the card's
    "latent_stats"; a mapping can centre its walks there rather than at the prior's origin)."""
    return {"mean": [round(float(x), 6) for x in means.mean(0)], "std": [round(float(x), 6) for x in means.std(0)]}


def compute_directions(encoder: Encoder, generator: Generator, images_u8: np.ndarray, features: np.ndarray | None,
                       feature_names: tuple[str, ...], k_pca: int = 8, k_sefa: int = 8,
                       means: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """All three kinds, ready for the card's "directions" (means: encoder means of images_u8, if already known)."""
    means = encode_means(encoder, images_u8) if means is None else means
    dirs = pca_directions(means, k_pca)
    dirs.update(sefa_directions(generator, k_sefa))
    if features is not None:
        dirs.update(feature_directions(means, features, feature_names))
    return dirs
