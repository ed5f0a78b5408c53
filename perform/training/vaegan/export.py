"""Export a finished run as a shippable model: encoder + EMA generator (fp16 optional), latent directions, card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perform.errors import PerformError
from perform.nets.bending.clusters import compute_clusters, measure_effects
from perform.nets.checkpoint import load_checkpoint, load_into, paths_for, update_card
from perform.nets.directions import compute_directions, encode_means, latent_stats, sefa_directions
from perform.nets.model import load_model
from perform.nets.vaegan import Encoder, Generator, VAEGANConfig
from perform.training.dataset import load_folder
from perform.training.vaegan.trainer import CHECKPOINT, export_inference


def export_run(run_dir: str | Path, out_path: str | Path, data_dir: str | Path | None = None, half: bool = True,
               name: str | None = None, extra: dict[str, Any] | None = None, clusters: bool = True) -> Path:
    """Write `out_path`.safetensors/.json from the training checkpoint in `run_dir`.

    clusters: also find the generator's feature clusters for bending (`perform clusters`), from the
    exported weights as a performer loads them.

    data_dir: the training crops, for the directions (PCA of encoder means, feature regressions); without
    it only the SeFa directions (which need no data) are stored. Machine paths never reach the card.
    """
    tensors, card = load_checkpoint(Path(run_dir) / CHECKPOINT)
    where = str(paths_for(Path(run_dir) / CHECKPOINT)[0])
    try:
        cfg = VAEGANConfig.from_dict(card["config"])
    except (TypeError, ValueError) as e:
        raise PerformError(f"{where}: bad 'config' in card: {e}") from None
    encoder, generator = Encoder(cfg), Generator(cfg)
    load_into(encoder, tensors, where, prefix="encoder.")
    load_into(generator, tensors, where, prefix="generator_ema.")
    encoder.eval()
    generator.eval()
    data_entry = dict(card.get("data") or {})
    data_entry.pop("path", None)
    if isinstance(data_entry.get("description"), dict):
        data_entry["description"] = {k: v for k, v in data_entry["description"].items() if k != "path"}
        if not data_entry["description"]:
            del data_entry["description"]
    if data_dir is not None:
        data = load_folder(data_dir, resolution=cfg.resolution)
        if data_entry.get("fingerprint") and data.fingerprint != data_entry["fingerprint"]:
            raise PerformError(f"{data_dir}: not the data this run was trained on (fingerprint differs from the card)")
        means = encode_means(encoder, data.images)
        dirs = compute_directions(encoder, generator, data.images, data.features, data.feature_names, means=means)
        extra = {"latent_stats": latent_stats(means), **(extra or {})}
    else:
        dirs = sefa_directions(generator)
    out_card = {**card, "name": name or Path(out_path).stem, "data": data_entry, "directions": dirs, **(extra or {})}
    path = export_inference(tensors, out_card, out_path, half=half)
    if clusters:
        model = load_model(path, "cpu")
        found = compute_clusters(model)
        measure_effects(model, found)
        update_card(path, {"clusters": found})
    return path
