"""Face crop datasets: a folder of aligned PNG crops (+ optional manifest.jsonl) held in memory as uint8.

Also the held-out split, batch augmentation in torch, and the data fingerprint written to model cards.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2  # opencv ships with mediapipe
import numpy as np
import torch
import torch.nn.functional as F

from perform.errors import PerformError
from perform.jsonl import JSONLinesError, read_json_lines
from perform.tracking.observation import FEATURE_NAMES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MANIFEST = "manifest.jsonl"
NOT_CROPS = ("contact_sheet.png",)  # written beside the crops by `perform capture`


@dataclass(eq=False)
class FaceDataset:
    """images (N, R, R, 3) uint8 RGB; features (N, F) float32 with NaN where unknown; names (N,)."""

    images: np.ndarray
    names: list[str]
    features: np.ndarray
    feature_names: tuple[str, ...] = FEATURE_NAMES
    fingerprint: str = ""
    source: str = ""
    licence: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def resolution(self) -> int:
        return int(self.images.shape[1])

    def subset(self, idx: np.ndarray) -> "FaceDataset":
        return FaceDataset(self.images[idx], [self.names[i] for i in idx], self.features[idx], self.feature_names,
                           self.fingerprint, self.source, self.licence, self.meta)

    def split(self, holdout: int, seed: int = 0) -> tuple["FaceDataset", "FaceDataset"]:
        """(train, held_out): a fixed, seeded choice of `holdout` crops (at most a quarter of the data)."""
        n_hold = min(holdout, len(self) // 4)
        perm = np.random.default_rng(seed).permutation(len(self))
        return self.subset(np.sort(perm[n_hold:])), self.subset(np.sort(perm[:n_hold]))

    def card_entry(self) -> dict[str, Any]:
        entry = {"fingerprint": self.fingerprint, "size": len(self), "resolution": self.resolution,
                 "source": self.source, "licence": self.licence}
        if self.meta:
            entry["description"] = dict(self.meta)
        return entry


def fingerprint_files(paths: list[Path], root: Path) -> str:
    """sha256 over (relative name, bytes) of each file, in sorted name order."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: q.relative_to(root).as_posix()):
        name = p.relative_to(root).as_posix().encode()
        data = p.read_bytes()
        h.update(len(name).to_bytes(8, "little") + name + len(data).to_bytes(8, "little"))
        h.update(data)
    return "sha256:" + h.hexdigest()


def _read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """file name -> record. Records name their image under 'file', 'path' or 'image'."""
    try:
        lines, _ = read_json_lines(path)
    except JSONLinesError as e:
        reason = e.error.msg if isinstance(e.error, json.JSONDecodeError) else e.error
        raise PerformError(f"{path}:{e.line}: not valid JSON: {reason}") from None
    out: dict[str, dict[str, Any]] = {}
    for lineno, rec in lines:
        if not isinstance(rec, dict):
            raise PerformError(f"{path}:{lineno}: expected a JSON object per line")
        name = rec.get("file") or rec.get("path") or rec.get("image")
        if not isinstance(name, str):
            raise PerformError(f"{path}:{lineno}: record has no 'file' naming its image")
        out[Path(name).name] = rec
    return out


def _features_of(rec: dict[str, Any] | None) -> np.ndarray:
    v = np.full(len(FEATURE_NAMES), np.nan, np.float32)
    if rec:
        feats = rec.get("features") if isinstance(rec.get("features"), dict) else rec
        for i, name in enumerate(FEATURE_NAMES):
            x = feats.get(name)
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                v[i] = float(x)
    return v


def _decode(path: Path) -> np.ndarray:
    data = np.frombuffer(path.read_bytes(), np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise PerformError(f"{path}: cannot decode image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def load_folder(root: str | Path, resolution: int | None = None) -> FaceDataset:
    """Load every PNG/JPEG under `root` (sorted) as RGB uint8, resized to `resolution` if given."""
    root = Path(root)
    if not root.is_dir():
        raise PerformError(f"{root}: dataset folder not found")
    manifest_path = root / MANIFEST
    manifest = _read_manifest(manifest_path) if manifest_path.exists() else {}
    if manifest:  # the manifest names the crops (a capture folder also holds a contact sheet)
        files = sorted(root / name for name in manifest)
        missing = [p.name for p in files if not p.is_file()]
        if missing:
            raise PerformError(f"{manifest_path}: lists {len(missing)} file(s) not in the folder, e.g. {missing[0]!r}")
    else:
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                       and p.name not in NOT_CROPS)
    if not files:
        raise PerformError(f"{root}: no images (*.png, *.jpg) found")
    images, feats = [], []
    for p in files:
        img = _decode(p)
        if img.shape[0] != img.shape[1]:
            raise PerformError(f"{p}: crops must be square, got {img.shape[1]}x{img.shape[0]}")
        if resolution and img.shape[0] != resolution:
            interp = cv2.INTER_AREA if img.shape[0] > resolution else cv2.INTER_CUBIC
            img = cv2.resize(img, (resolution, resolution), interpolation=interp)
        elif images and img.shape != images[0].shape:
            raise PerformError(f"{p}: size {img.shape[:2]} differs from the first crop {images[0].shape[:2]}; pass a resolution")
        images.append(img)
        feats.append(_features_of(manifest.get(p.name)))
    info: dict[str, Any] = {}
    info_path = root / "dataset.json"  # optional description written by dataset builders
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text())
        except json.JSONDecodeError as e:
            raise PerformError(f"{info_path}: not valid JSON: {e.msg}") from None
    extra = [manifest_path] if manifest_path.exists() else []
    return FaceDataset(
        images=np.stack(images), names=[p.relative_to(root).as_posix() for p in files], features=np.stack(feats),
        fingerprint=fingerprint_files(files + extra, root), source=str(info.get("source") or info.get("origin") or root.name),
        licence=str(info.get("licence") or info.get("license") or "unknown (see the dataset's source)"),
        meta={k: v for k, v in info.items() if k not in ("source", "origin", "licence", "license")},
    )


def augment(x: torch.Tensor, gen: torch.Generator, flip: bool = True, max_rotate_deg: float = 6.0,
            max_scale: float = 0.06, max_shift: float = 0.04, jitter: float = 0.1) -> torch.Tensor:
    """Random horizontal flip, small affine and colour jitter, per sample, on (B, 3, H, W) in [-1, 1]."""
    b, dev = x.shape[0], x.device

    def u(*shape: int) -> torch.Tensor:  # uniform in [-1, 1), drawn from the run's generator
        return torch.rand(*shape, generator=gen, device=gen.device).to(dev) * 2 - 1

    if flip:
        mask = (u(b) > 0).view(b, 1, 1, 1)
        x = torch.where(mask, x.flip(3), x)
    ang = u(b) * math.radians(max_rotate_deg)
    scale = 1.0 + u(b) * max_scale
    shift = u(b, 2) * max_shift * 2
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    # colour: brightness, contrast, saturation, each +-jitter
    bright = u(b, 1, 1, 1) * jitter
    contrast = 1.0 + u(b, 1, 1, 1) * jitter
    sat = 1.0 + u(b, 1, 1, 1) * jitter * 2
    grey = x.mean(1, keepdim=True)                                         # (B, 1, H, W)
    x = grey + (x - grey) * sat
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + bright
    return x.clamp(-1.0, 1.0)


class ShardedSampler:
    """Epoch-wise shuffled indices, the same permutation on every rank, each rank taking its own slice.

    State (epoch, position) is plain ints so a resumed run draws exactly the batches it would have drawn.
    """

    def __init__(self, n: int, batch_per_rank: int, seed: int, rank: int = 0, world: int = 1) -> None:
        if n < batch_per_rank * world:
            raise PerformError(f"dataset too small: {n} crops for a global batch of {batch_per_rank * world}")
        self.n, self.batch, self.seed, self.rank, self.world = n, batch_per_rank, seed, rank, world
        self.epoch, self.pos = 0, 0
        self._perm = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return torch.randperm(self.n, generator=g)

    def next(self) -> torch.Tensor:
        step = self.batch * self.world
        if self.pos + step > self.n:  # drop the ragged tail: every batch is full on every rank
            self.epoch, self.pos = self.epoch + 1, 0
            self._perm = self._permutation()
        chunk = self._perm[self.pos:self.pos + step]
        self.pos += step
        return chunk[self.rank::self.world]

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state(self, s: dict[str, int]) -> None:
        self.epoch, self.pos = int(s["epoch"]), int(s["pos"])
        self._perm = self._permutation()
