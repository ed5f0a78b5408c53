"""Export a chosen snapshot as a model: its weights, and a card that says why it was chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perform.errors import PerformError
from perform.nets.checkpoint import load_checkpoint, load_into, save_checkpoint
from perform.nets.directions import sefa_directions
from perform.nets.vaegan import Generator, VAEGANConfig
from perform.selection.ranking import Ranked
from perform.selection.runs import Run
from perform.selection.table import Weight


def why(run: Run, chosen: Ranked, weights: list[Weight], method: str) -> dict[str, Any]:
    """The card's `selection` entry: the weights, the snapshot's metric values, its score and rank."""
    return {
        "run": run.path.name,  # a folder name, never a machine path
        "step": chosen.snapshot.step,
        "rank": chosen.rank,
        "of": len(run.snapshots),
        "method": method,
        "score": round(chosen.score, 6),
        "weights": {w.metric: {"weight": w.weight, "better": "higher" if w.higher_better else "lower"} for w in weights},
        "metrics": {k: round(v, 6) for k, v in sorted(chosen.snapshot.values.items())},
        "normalised": {k: round(v, 6) for k, v in chosen.normalised.items()},
    }


def _without_paths(data: Any) -> Any:
    """The card's data entry less the training machine's folder (kept in a run for --resume, never shipped)."""
    if not isinstance(data, dict):
        return data
    out = {k: v for k, v in data.items() if k != "path"}
    if isinstance(out.get("description"), dict):
        out["description"] = {k: v for k, v in out["description"].items() if k != "path"}
    return out


def export_snapshot(run: Run, chosen: Ranked, weights: list[Weight], method: str, out: str | Path) -> Path:
    """Write out.safetensors/.json from the chosen snapshot's weights; returns the weights path."""
    src = chosen.snapshot.weights
    if src is None:
        raise PerformError(f"{run.path}: step {chosen.snapshot.step} has no weights kept (its snapshot file is gone); "
                           "runs trained before snapshots were kept have only their last step")
    tensors, card = load_checkpoint(src)
    card = {k: v for k, v in card.items() if k not in ("format", "format_version", "tensors", "resume")}
    if card.get("kind") == "vaegan" and not card.get("directions"):
        # a VAE-GAN snapshot carries no directions; SeFa needs no data (`perform train --export` adds data ones)
        try:
            cfg = VAEGANConfig.from_dict(card["config"])
        except (KeyError, TypeError, ValueError) as e:
            raise PerformError(f"{src}: bad 'config' in card: {e}") from None
        gen = Generator(cfg)
        load_into(gen, {k: v.float() for k, v in tensors.items()}, str(src), prefix="generator_ema.")
        card["directions"] = sefa_directions(gen)
    card["data"] = _without_paths(card.get("data"))
    card["name"] = Path(out).stem
    card["selection"] = why(run, chosen, weights, method)
    return save_checkpoint(out, tensors, card)
