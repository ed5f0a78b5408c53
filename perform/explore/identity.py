"""Which model a lineage belongs to: its name, kind, latent size and a fingerprint of what decides its images.

A lineage's genomes only mean something on the model that drew them; resuming or replaying one on another
model is refused, naming what differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from perform.nets.checkpoint import paths_for


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    name: str
    kind: str
    latent_dim: int
    fingerprint: str  # "sha256:<hex>" of the weights file and the card's directions and latent_stats

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Any) -> "ModelIdentity":
        """Raises ValueError naming the key that is missing or wrong."""
        if not isinstance(d, Mapping):
            raise ValueError("'model' must be a table (name, kind, latent_dim, fingerprint)")
        for key, typ in (("name", str), ("kind", str), ("latent_dim", int), ("fingerprint", str)):
            if not isinstance(d.get(key), typ) or isinstance(d.get(key), bool):
                raise ValueError(f"'model.{key}' is missing or not a {typ.__name__}")
        return cls(d["name"], d["kind"], int(d["latent_dim"]), d["fingerprint"])

    def mismatch(self, other: "ModelIdentity") -> str | None:
        """None when `other` (the model at hand) is this one, else what differs, in words."""
        for key in ("name", "kind", "latent_dim"):
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine != theirs:
                return f"model {key} differs: the lineage's is {mine!r}, this model's is {theirs!r}"
        if self.fingerprint != other.fingerprint:
            return (f"model fingerprint differs: the lineage was made with {self.name!r} {self.fingerprint[:19]}..., "
                    f"this is {other.name!r} {other.fingerprint[:19]}... (other weights, directions or latent_stats)")
        return None


def fingerprint(card_path: str | Path, card: Mapping[str, Any]) -> str:
    """sha256 over the weights file and the card entries that change what a genome draws."""
    weights, _ = paths_for(card_path)
    h = hashlib.sha256()
    with open(weights, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    extra = {k: card.get(k) for k in ("directions", "latent_stats")}
    h.update(json.dumps(extra, sort_keys=True).encode())
    return "sha256:" + h.hexdigest()


def identify(model: Any, card_path: str | Path) -> ModelIdentity:
    """The identity of a model loaded from `card_path` (a GenerativeModel)."""
    card = model.info.card or {}
    return ModelIdentity(model.info.name, model.info.kind, int(model.latent_dim), fingerprint(card_path, card))
