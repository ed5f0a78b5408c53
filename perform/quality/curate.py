"""`perform curate`: sample many candidates of a model, score them by named metrics, keep a diverse top k.

Candidate i is the latent a setlist's `seeds = [i]` names (N(0, 1) drawn with numpy's PCG64 from seed i,
moved to the model's measured latent distribution as the conductor does), so every pick is a keyframe any
setlist can use, exactly. Scores go to OUT/candidates.csv as each batch is scored: an interrupted run keeps
them, and a rerun with the same model, metrics and data picks up where it stopped (the weights, k and the
threshold can change between runs: they only re-rank). Picks: perform.quality.topk (greedy, best first,
each at least --min-distance in RMS pixel difference at 16x16 from every other pick).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

from perform.engine.conductor import data_latents
from perform.errors import PerformError
from perform.nets.generative import GenerativeModel
from perform.nets.checkpoint import read_card
from perform.nets.model import load_model
from perform.nets.precision import to_uint8_hwc
from perform.quality.contact_sheet import contact_sheet
from perform.quality.diversity import image_kernel, pixel_features, vendi_score
from perform.quality.image_metrics import METRIC_FUNCTIONS
from perform.quality.novelty import NoveltyReference
from perform.quality.registry import IMAGE_METRICS, combine, format_weights
from perform.quality.topk import DiverseSelector, rank
from perform.setlist.paths import find_model, shipped_models_dir
from perform.training.dataset import load_folder
from perform.training.grids import save_png

log = logging.getLogger(__name__)

SCORES = "candidates.csv"   # every candidate's raw metrics, appended batch by batch (the resumable part)
RUN = "run.json"            # what the scores depend on; a rerun must match it to reuse them
FORMAT = 1                  # bump when a metric's definition changes: old scores are then not reused


@dataclass(frozen=True)
class CurateConfig:
    """One curate run. `n` candidates from seed `first_seed`; `weights` over IMAGE_METRICS names."""

    model: str
    out: Path
    weights: dict[str, float]
    n: int = 300
    k: int = 12
    min_distance: float = 0.15
    first_seed: int = 0
    batch: int = 64
    data: str | None = None
    device: str | None = None
    fresh: bool = False
    progress: bool = True


@dataclass(frozen=True)
class Pick:
    """One chosen candidate: its rank among the picks (1 = best), seed, combined score and raw metrics."""

    rank: int
    seed: int
    score: float
    metrics: dict[str, float]
    latent: np.ndarray = field(repr=False)
    nearest_pick: float  # RMS pixel distance (16x16) to the closest other pick (inf for a single pick)


@dataclass(frozen=True)
class CurateResult:
    picks: list[Pick]
    scored: int                 # candidates scored in all (this run and the ones it resumed)
    resumed: int                # of those, read back from an earlier run
    examined: int               # candidates offered to the selector before it had k (or ran out)
    vendi_picks: float          # Vendi score of the picks' images (1..k)
    vendi_by_score: float       # Vendi score of the k best by score alone, for comparison
    novelty_space: str          # 'encoder', 'pixels' or '' (not measured)
    files: dict[str, Path]


# ----------------------------------------------------------------------------- sampling

def seed_latents(seeds: list[int] | np.ndarray, model: GenerativeModel) -> np.ndarray:
    """(B, Z) float32: the latents a setlist's `seeds = [...]` gives this model (perform.setlist.keyframes,
    then the conductor's move to the card's `latent_stats`)."""
    z = model.latent_dim
    draws = np.stack([np.random.default_rng(int(s)).standard_normal(z) for s in seeds]).astype(np.float32)
    return data_latents(draws, model)


@torch.inference_mode()
def sample_images(model: GenerativeModel, latents: np.ndarray) -> torch.Tensor:
    """(B, Z) latents -> (B, H, W, 3) uint8 images as model.generate makes them, on the model's device:
    one batched call for a VAE-GAN, one latent at a time for other kinds."""
    net = getattr(model, "net", None)
    gen = getattr(net, "generator", None)
    if gen is not None:
        p = next(gen.parameters())
        z = torch.as_tensor(np.asarray(latents, np.float32)).to(p.device, p.dtype)   # (B, Z)
        return to_uint8_hwc(gen(z))                                                     # (B, H, W, 3)
    return torch.as_tensor(np.stack([model.generate(z) for z in latents]))


# ----------------------------------------------------------------------------- the score file

class ScoreStore:
    """candidates.csv (seed, then one column per metric) and run.json, what those scores depend on.

    Rows are appended and flushed batch by batch; a half-written last line (a killed run) is dropped."""

    def __init__(self, out: Path, identity: dict[str, Any], columns: list[str], fresh: bool = False) -> None:
        self.path = out / SCORES
        self.run_path = out / RUN
        self.columns = columns
        self.rows: dict[int, dict[str, float]] = {}
        out.mkdir(parents=True, exist_ok=True)
        if fresh:
            self.path.unlink(missing_ok=True)
        if self.path.exists():
            self._check(identity)
            self._read()
        else:
            self.run_path.write_text(json.dumps(identity, indent=2) + "\n")
            with self.path.open("w", newline="") as f:
                f.write(",".join(["seed", *columns]) + "\n")

    def _check(self, identity: dict[str, Any]) -> None:
        try:
            saved = json.loads(self.run_path.read_text())
        except (OSError, ValueError):
            saved = {}
        diff = [k for k in sorted(set(saved) | set(identity)) if saved.get(k) != identity.get(k)]
        if diff:
            what = "; ".join(f"{k}: {saved.get(k)!r} there, {identity.get(k)!r} now" for k in diff)
            raise PerformError(f"{self.path} holds scores of another curate run ({what}); choose another --out, "
                               "or pass --fresh to discard them")

    def _read(self) -> None:
        raw = self.path.read_bytes()
        keep = raw[: raw.rfind(b"\n") + 1]
        if len(keep) != len(raw):  # a line cut off by a kill: score that candidate again
            self.path.write_bytes(keep)
        lines = keep.decode().splitlines()
        header = lines[0].split(",") if lines else []
        if header != ["seed", *self.columns]:
            raise PerformError(f"{self.path}: columns {header} are not {['seed', *self.columns]}; pass --fresh to start again")
        for rec in csv.DictReader(lines):
            self.rows[int(rec["seed"])] = {c: float(rec[c]) for c in self.columns}

    def __contains__(self, seed: int) -> bool:
        return seed in self.rows

    def append(self, seeds: list[int], values: dict[str, np.ndarray]) -> None:
        with self.path.open("a", newline="") as f:
            for i, s in enumerate(seeds):
                text = [f"{float(values[c][i]):.9g}" for c in self.columns]
                self.rows[s] = {c: float(t) for c, t in zip(self.columns, text)}  # as a rerun reads them: same ranking
                f.write(",".join([str(s), *text]) + "\n")
            f.flush()


# ----------------------------------------------------------------------------- the run

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _card_data(card: dict[str, Any]) -> dict[str, Any]:
    return card["data"] if isinstance(card.get("data"), dict) else {}


def novelty_reference_folder(card_path: Path, data: str | None) -> str | None:
    """The folder of training crops novelty is measured against: `data`, else the one the card records
    (a run's checkpoint does; a shipped model's card names its data but no folder), if it exists."""
    d = _card_data(read_card(card_path))
    folder = data or (d.get("description") or {}).get("path") or d.get("path")
    return str(folder) if folder and Path(folder).is_dir() else None


def novelty_reference(model: GenerativeModel, folder: str | None) -> tuple[NoveltyReference | None, str]:
    """The training crops in `folder` embedded for novelty: in the encoder's space for a VAE-GAN whose card
    names its data (a fingerprint), else in pixels. Returns (the reference or None, the data's fingerprint)."""
    if folder is None:
        return None, ""
    card_data = _card_data(model.info.card or {})
    ds = load_folder(folder, resolution=model.resolution)
    if len(ds) == 0:
        raise PerformError(f"{folder}: no face crops to measure novelty against")
    want = card_data.get("fingerprint")
    if want and want != ds.fingerprint:
        log.warning("%s is not the data %s was trained on (fingerprint %s, the card says %s): novelty is measured "
                    "against it all the same", folder, model.info.name, ds.fingerprint[:19], want[:19])
    net = getattr(model, "net", None)
    if want and getattr(net, "encoder", None) is not None:
        p = next(net.encoder.parameters())
        ref = NoveltyReference.in_encoder(ds.images, net.encoder, model.resolution, p.device, p.dtype)
    else:
        ref = NoveltyReference.in_pixels(ds.images)
    return ref, ds.fingerprint


def score_batch(images: torch.Tensor, columns: list[str], reference: NoveltyReference | None) -> dict[str, np.ndarray]:
    """Every metric in `columns` for a batch of (B, H, W, 3) uint8 images -> {name: (B,) float64}."""
    out: dict[str, np.ndarray] = {}
    for name in columns:
        if name == "novelty":
            assert reference is not None
            v = reference.distance(images)
        else:
            v = METRIC_FUNCTIONS[name](images)
        out[name] = v.double().cpu().numpy()
    return out


def curate(cfg: CurateConfig, interrupt: Callable[[int], None] | None = None) -> CurateResult:
    """Run curate; `interrupt(batches_scored)` is called after each scored batch (tests stop a run there)."""
    card_path = find_model(cfg.model)
    model = load_model(card_path, cfg.device)
    if cfg.data is not None and not Path(cfg.data).is_dir():
        raise PerformError(f"--data {cfg.data}: no such folder")
    reference, data_fingerprint = novelty_reference(model, novelty_reference_folder(card_path, cfg.data))
    if cfg.weights.get("novelty") and reference is None:
        src = _card_data(model.info.card or {}).get("source")
        raise PerformError("novelty needs the crops the model was trained on: give --data DIR"
                           + (f" (the card says its data is: {src})" if src else "")
                           + ", or leave novelty out of --weights")
    columns = [m for m in IMAGE_METRICS if m != "novelty" or reference is not None]
    safetensors = card_path.with_suffix(".safetensors")
    identity = {"format": FORMAT, "model": model.info.name, "weights_sha256": _sha256(safetensors), "metrics": columns,
                "novelty_space": reference.space if reference else "",
                "novelty_data": data_fingerprint}
    store = ScoreStore(cfg.out, identity, columns, fresh=cfg.fresh)
    seeds = list(range(cfg.first_seed, cfg.first_seed + cfg.n))
    todo = [s for s in seeds if s not in store]
    resumed = len(seeds) - len(todo)
    if resumed:
        log.info("%d of %d candidates already scored in %s", resumed, len(seeds), store.path)
    bar = tqdm(total=len(seeds), initial=resumed, disable=not cfg.progress, unit="img", desc="scoring", dynamic_ncols=True)
    try:
        for b, start in enumerate(range(0, len(todo), cfg.batch), 1):
            chunk = todo[start:start + cfg.batch]
            images = sample_images(model, seed_latents(chunk, model))
            store.append(chunk, score_batch(images, columns, reference))
            bar.update(len(chunk))
            if interrupt is not None:
                interrupt(b)
    finally:
        bar.close()

    scores = {c: np.array([store.rows[s][c] for s in seeds]) for c in columns}
    total = combine(scores, cfg.weights)
    order = rank(total)
    selector = DiverseSelector(cfg.k, cfg.min_distance)
    images_of: dict[int, np.ndarray] = {}
    features_of: dict[int, torch.Tensor] = {}
    examined = 0
    for start in range(0, len(order), cfg.batch):  # regenerate in rank order until k are kept (same seeds, same images)
        idx = [int(i) for i in order[start:start + cfg.batch]]
        imgs = sample_images(model, seed_latents([seeds[i] for i in idx], model))
        feats = pixel_features(imgs).cpu()
        imgs = imgs.cpu().numpy()
        for j, i in enumerate(idx):
            examined += 1
            features_of[i] = feats[j]
            if selector.offer(i, feats[j]):
                images_of[i] = imgs[j]
            if selector.full:
                break
        if selector.full:
            break
    chosen = selector.chosen
    if len(chosen) < cfg.k:
        log.warning("only %d picks of the %d asked for (--k) are at least %g apart from each other; lower "
                    "--min-distance or raise --n", len(chosen), cfg.k, cfg.min_distance)
    by_score = [int(i) for i in order[:len(chosen)]]
    vendi_picks = vendi_score(image_kernel(torch.stack([features_of[i] for i in chosen]))) if chosen else 0.0
    vendi_by_score = vendi_score(image_kernel(torch.stack([features_of[i] for i in by_score]))) if chosen else 0.0
    latents = seed_latents([seeds[i] for i in chosen], model) if chosen else np.zeros((0, model.latent_dim), np.float32)
    picks = []
    for r, i in enumerate(chosen):
        others = [features_of[j] for j in chosen if j != i]
        near = float(torch.cdist(features_of[i][None].double(), torch.stack(others).double()).min()) if others else float("inf")
        picks.append(Pick(r + 1, seeds[i], float(total[i]), {c: float(scores[c][i]) for c in columns}, latents[r], near))

    files = _write_outputs(cfg, card_path, model, picks, [images_of[i] for i in chosen], len(seeds), vendi_picks,
                           vendi_by_score, reference)
    return CurateResult(picks, len(seeds), resumed, examined, vendi_picks, vendi_by_score,
                        reference.space if reference else "", files)


# ----------------------------------------------------------------------------- outputs

_SHORT = {"colourfulness": "col", "sharpness": "sharp", "novelty": "nov"}


def _write_outputs(cfg: CurateConfig, card_path: Path, model: GenerativeModel, picks: list[Pick], images: list[np.ndarray],
                   n: int, vendi_picks: float, vendi_by_score: float, reference: NoveltyReference | None) -> dict[str, Path]:
    out = cfg.out
    files = {"scores": out / SCORES}
    weights = format_weights(cfg.weights)
    # CSV of the picks
    files["csv"] = out / "curated.csv"
    metric_names = list(picks[0].metrics) if picks else []
    with files["csv"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rank", "seed", "score", *metric_names, "nearest_pick"])
        for p in picks:
            w.writerow([p.rank, p.seed, f"{p.score:.6g}", *(f"{p.metrics[m]:.6g}" for m in metric_names), f"{p.nearest_pick:.4g}"])
    # explicit latents, for code (explore, a mapping file) rather than a setlist
    files["latents"] = out / "latents.npy"
    np.save(files["latents"], np.stack([p.latent for p in picks]) if picks else np.zeros((0, model.latent_dim), np.float32))
    # a setlist whose one scene walks through the picks
    files["setlist"] = out / "setlist.toml"
    files["setlist"].write_text(_setlist_text(cfg, card_path, model, picks, n, weights))
    # the contact sheet
    if picks:
        space = {"encoder": ", novelty in the encoder's space", "pixels": ", novelty in pixels"}.get(reference.space, "") if reference else ""
        title = [f"perform curate {model.info.name}: {len(picks)} of {n} candidates (seeds {cfg.first_seed}..{cfg.first_seed + n - 1})",
                 f"weights {weights}{space}; picks at least {cfg.min_distance:g} apart (RMS, 16x16)",
                 f"Vendi of the picks {vendi_picks:.2f}; of the {len(picks)} best by score alone {vendi_by_score:.2f}"]
        labels = []
        for p in picks:
            values = [f"{_SHORT.get(m, m)} {v:.3g}" for m, v in p.metrics.items()]
            labels.append([f"#{p.rank} seed {p.seed}  {p.score:+.2f}", *("  ".join(values[i:i + 2]) for i in range(0, len(values), 2))])
        files["sheet"] = save_png(out / "contact_sheet.png", contact_sheet(np.stack(images), labels, title))
    return files


def _setlist_text(cfg: CurateConfig, card_path: Path, model: GenerativeModel, picks: list[Pick], n: int, weights: str) -> str:
    shipped = card_path.parent.resolve() == shipped_models_dir().resolve()
    ref = card_path.stem if shipped else str(card_path.resolve())
    seeds = ", ".join(str(p.seed) for p in picks)
    every = 3
    return (f"# Written by `perform curate {cfg.model}`: the {len(picks)} picks of {n} candidates, best first\n"
            f"# (weights {weights}; at least {cfg.min_distance:g} apart). Each seed is a keyframe: copy the scene into a\n"
            f"# show, or run this file: perform rehearse {cfg.out / 'setlist.toml'} --out curated.mp4\n"
            f"# Reference: docs/setlists.md, docs/curate.md\n\n"
            f"[show]\ntitle = {json.dumps('curated: ' + model.info.name)}\n\n"
            f"[[scene]]\nname = \"curated\"\nmodel = {json.dumps(ref)}\ndrive = \"latent\"\n"
            f"seeds = [{seeds}]\nkeyframe_every = {{ seconds = {every} }}\n"
            f"duration = {{ seconds = {every * max(1, len(picks))} }}\n")
