"""DivergeConfig: everything that decides a diverging fine-tune; TOML keys and --set overrides by field name."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from perform.errors import PerformError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class DivergeConfig:
    """Saved resolved in the run folder and in the model card."""

    base: str = "face-64"        # the trained VAE-GAN to start from (a card path or a model name)
    name: str = "face-64-diverged"
    steps: int = 90              # generator steps
    batch_size: int = 16
    lr_g: float = 3e-5
    lr_d: float = 2e-4
    critic_warmup: int = 60      # critic-only steps first: a fresh critic learns the data from the base's images
    n_critic: int = 1            # critic steps per generator step (it keeps judging the moving generator)
    gp_lambda: float = 10.0      # gradient penalty (WGAN-GP)
    adv_weight: float = 1.0      # the reversed adversarial term: the generator seeks what the critic calls fake
    keep_weight: float = 12.0    # structure kept: L1 between blurred images of the generator and of the base
    keep_pool: int = 4           # the blur: average pooling by this factor (coarse layout kept, detail let go)
    prior_share: float = 0.5     # share of each batch's latents drawn from the card's latent_stats (else encoded crops)
    snapshots: int = 7           # kept along the run, the first (the base itself) and the last included
    eval_latents: int = 48       # encoded training crops whose decodings measure the distance from the data
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 2 or self.snapshots < 2 or self.eval_latents < 1 or self.keep_pool < 1:
            raise PerformError(f"diverge recipe: bad sizes in {self}")
        if not 0.0 <= self.prior_share <= 1.0:
            raise PerformError(f"diverge recipe: prior_share must be in 0..1, got {self.prior_share}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config(path: str | Path | None = None, sets: list[str] | None = None, **overrides: Any) -> DivergeConfig:
    """Defaults, then the TOML file's keys (top level or under [diverge]), then `--set KEY=VALUE`, then
    keyword overrides that are not None; an unknown key is refused naming it and the known ones."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise PerformError(f"{path}: {e}") from None
        values.update(data.get("diverge", data))
    for item in sets or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise PerformError(f"--set {item}: expected KEY=VALUE")
        values[key.strip()] = raw.strip()
    values.update({k: v for k, v in overrides.items() if v is not None})
    types = {f.name: type(f.default) for f in fields(DivergeConfig)}
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise PerformError(f"diverge recipe: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(types))}")
    out = {}
    for k, v in values.items():
        try:
            out[k] = types[k](v) if not isinstance(v, types[k]) else v
        except (TypeError, ValueError):
            raise PerformError(f"diverge recipe: {k} = {v!r} is not a {types[k].__name__}") from None
    return replace(DivergeConfig(), **out)
