"""Feature clusters (Broad et al., "Network Bending"): each layer's channels grouped by what their maps show.

A few hundred images are generated; each channel's activation maps over all of them (pooled to at most
16 x 16, centred, scaled to unit length) is one point, and k-means groups the points of a layer (k per
layer: an eighth of its channels, between 2 and 8). Channels in one cluster tend to draw one thing (hair,
background, the eyes), so a bend on a cluster changes that thing. Stored in the model card under
`clusters` with, per cluster, how much switching it off changes the image (`effect`: mean absolute pixel
change, 0..255).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from perform.nets.bending.layers import generators_of, layer_channels, layer_modules
from perform.nets.checkpoint import CheckpointError
from perform.nets.vaegan import VAEGANConfig

METHOD = "k-means (k-means++ start) on each channel's activation maps, pooled to <= 16x16, centred, unit length"
MAP_SIZE = 16


def k_for(channels: int) -> int:
    return max(2, min(8, channels // 8))


def card_clusters(card: Mapping[str, Any] | None, cfg: VAEGANConfig) -> dict[str, dict[str, np.ndarray]]:
    """{generator key: {layer: labels (C,) int}} from a card (empty if it has none); CheckpointError naming
    the key when malformed."""
    raw = (card or {}).get("clusters")
    if not raw:
        return {}
    channels = layer_channels(cfg)
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        for key, layers in raw["generators"].items():
            out[key] = {}
            for layer, entry in layers.items():
                labels = np.asarray(entry["labels"], dtype=np.int64)
                if layer not in channels or labels.shape != (channels[layer],) or labels.min() < 0:
                    raise ValueError(f"layer {layer!r}: expected {channels.get(layer, '?')} labels >= 0")
                out[key][layer] = labels
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"model card key 'clusters': malformed ({e}); run `perform clusters` again") from None
    return out


def kmeans(points: torch.Tensor, k: int, seed: int, iters: int = 60) -> np.ndarray:
    """Labels (N,) of k-means on points (N, D): k-means++ start from `seed`, Lloyd's steps until stable.
    Clusters are numbered by size, largest first (ties: lowest channel first), so a card reads the same
    for the same data."""
    n = points.shape[0]
    g = torch.Generator().manual_seed(seed)
    centres = [points[int(torch.randint(n, (1,), generator=g))]]
    for _ in range(1, k):
        d = torch.cdist(points, torch.stack(centres)).min(1).values ** 2  # (N,)
        p = d / d.sum() if float(d.sum()) > 0 else torch.full_like(d, 1.0 / n)
        centres.append(points[int(torch.multinomial(p, 1, generator=g))])
    c = torch.stack(centres)  # (k, D)
    labels = torch.full((n,), -1, dtype=torch.long)
    for _ in range(iters):
        new = torch.cdist(points, c).argmin(1)
        if torch.equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = points[labels == j]
            if len(members):
                c[j] = members.mean(0)
            else:  # an empty cluster restarts at the point farthest from its centre
                far = int(torch.cdist(points, c).min(1).values.argmax())
                c[j] = points[far]
    lab = labels.numpy()
    order = sorted(range(k), key=lambda j: (-(lab == j).sum(), int(np.flatnonzero(lab == j)[0]) if (lab == j).any() else n))
    remap = np.empty(k, np.int64)
    remap[order] = np.arange(k)
    return remap[lab]


def sample_latents(model: Any, n: int, seed: int) -> torch.Tensor:
    """(n, Z) seeded draws, moved to where the model's data lives when its card measured that."""
    z = torch.as_tensor(np.random.default_rng(seed).standard_normal((n, model.latent_dim)).astype(np.float32))
    stats = (model.info.card or {}).get("latent_stats")
    if stats:
        z = torch.as_tensor(np.asarray(stats["mean"], np.float32)) + torch.as_tensor(np.asarray(stats["std"], np.float32)) * z
    return z


@torch.inference_mode()
def activations(gen: torch.nn.Module, z: torch.Tensor, batch: int = 64) -> dict[str, torch.Tensor]:
    """{layer: (N, C, h, w) float32 maps, pooled to <= MAP_SIZE} for latents z (N, Z)."""
    modules = layer_modules(gen)
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in modules}

    def keep(name, _m, _i, out):
        x = out.float()
        if x.shape[-1] > MAP_SIZE:
            x = F.adaptive_avg_pool2d(x, MAP_SIZE)
        seen[name].append(x.cpu())

    hooks = [m.register_forward_hook(lambda m, i, o, name=name: keep(name, m, i, o)) for name, m in modules.items()]
    try:
        p = next(gen.parameters())
        for s in range(0, z.shape[0], batch):
            gen(z[s:s + batch].to(p.device, p.dtype))
    finally:
        for h in hooks:
            h.remove()
    return {name: torch.cat(v) for name, v in seen.items()}


def compute_clusters(model: Any, samples: int = 256, seed: int = 0) -> dict[str, Any]:
    """The card's `clusters` entry for `model` (its generators as they show now: a pair's last snapshot)."""
    model.generate(np.zeros(model.latent_dim, np.float32))  # a pair sets its snapshot's weights on first use
    z = sample_latents(model, samples, seed)
    gens: dict[str, Any] = {}
    for key, gen in generators_of(model).items():
        acts = activations(gen, z)
        gens[key] = {}
        for layer, a in acts.items():
            pts = a.transpose(0, 1).reshape(a.shape[1], -1)            # (C, N*h*w): one point per channel
            pts = pts - pts.mean(1, keepdim=True)
            pts = pts / pts.norm(dim=1, keepdim=True).clamp_min(1e-8)
            k = min(k_for(pts.shape[0]), pts.shape[0])
            labels = kmeans(pts, k, seed)
            gens[key][layer] = {"k": k, "labels": labels.tolist(), "sizes": np.bincount(labels, minlength=k).tolist()}
    return {"method": METHOD, "samples": samples, "seed": seed, "map_size": MAP_SIZE, "generators": gens}


@torch.inference_mode()
def _images(gen: torch.nn.Module, z: torch.Tensor, layer: str | None = None, off: np.ndarray | None = None) -> np.ndarray:
    """(N, R, R, 3) uint8 from latents z (N, Z), with the channels `off` of `layer` switched off."""
    hook = None
    if layer is not None:
        idx = torch.as_tensor(off, dtype=torch.long)

        def ablate(_m, _i, out):
            return out.index_fill(1, idx.to(out.device), 0.0)

        hook = layer_modules(gen)[layer].register_forward_hook(ablate)
    try:
        p = next(gen.parameters())
        x = gen(z.to(p.device, p.dtype)).float().clamp(-1, 1)
    finally:
        if hook is not None:
            hook.remove()
    return ((x + 1.0) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def measure_effects(model: Any, clusters: dict[str, Any], n: int = 16, seed: int = 1) -> np.ndarray | None:
    """Add each cluster's `effect` (mean absolute pixel change, 0..255, when it is switched off, over n
    images) to `clusters` in place."""
    model.generate(np.zeros(model.latent_dim, np.float32))
    z = sample_latents(model, n, seed)
    for key, gen in generators_of(model).items():
        ref = _images(gen, z).astype(np.int16)
        for layer, entry in clusters["generators"][key].items():
            labels = np.asarray(entry["labels"])
            entry["effect"] = [round(float(np.abs(_images(gen, z, layer, np.flatnonzero(labels == j)).astype(np.int16) - ref).mean()), 3)
                               for j in range(entry["k"])]
    return None


def contact_sheet(model: Any, clusters: dict[str, Any], seed: int = 1, cell: int = 64) -> np.ndarray:
    """One row per (generator, layer): the image as it is, then with each cluster switched off in turn;
    a label column on the left. (H, W, 3) uint8."""
    import cv2  # the one image library perform ships with (opencv-contrib-python)

    model.generate(np.zeros(model.latent_dim, np.float32))
    z = sample_latents(model, 1, seed)
    rows = []
    kmax = max(e["k"] for layers in clusters["generators"].values() for e in layers.values())
    label_w = 96
    for key, gen in generators_of(model).items():
        base = _images(gen, z)[0]
        for layer, entry in clusters["generators"][key].items():
            labels = np.asarray(entry["labels"])
            cells = [base] + [_images(gen, z, layer, np.flatnonzero(labels == j))[0] for j in range(entry["k"])]
            cells = [cv2.resize(c, (cell, cell), interpolation=cv2.INTER_NEAREST) for c in cells]
            cells += [np.zeros((cell, cell, 3), np.uint8)] * (kmax + 1 - len(cells))
            label = np.zeros((cell, label_w, 3), np.uint8)
            name = layer if key == "generator" else f"{key}.{layer}"
            cv2.putText(label, name, (4, cell // 2 - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            cv2.putText(label, f"k={entry['k']}", (4, cell // 2 + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (180, 180, 180), 1, cv2.LINE_AA)
            rows.append(np.concatenate([label, *cells], axis=1))
    head = np.zeros((18, rows[0].shape[1], 3), np.uint8)
    for j, text in enumerate(["as is"] + [f"off {i}" for i in range(kmax)]):
        cv2.putText(head, text, (label_w + j * cell + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([head, *rows], axis=0)
