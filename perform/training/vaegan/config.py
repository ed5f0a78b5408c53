"""TrainConfig for the VAE-GAN recipe: presets, TOML loading and CLI overrides by field name."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perform.errors import PerformError

if TYPE_CHECKING:
    from perform.nets.vaegan import VAEGANConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a VAE-GAN run; saved resolved with every run and in the model card."""

    # architecture (-> VAEGANConfig)
    resolution: int = 64
    latent_dim: int = 64
    width: int = 32
    max_channels: int = 256
    # optimisation
    batch_size: int = 32          # global: split across ranks under torchrun
    steps: int = 2000             # generator steps
    lr_g: float = 2e-4            # generator and encoder
    lr_d: float = 2e-4            # critic
    beta1: float = 0.0            # Adam betas as in Gulrajani et al. for WGAN-GP
    beta2: float = 0.9
    warmup_steps: int = 100
    lr_decay: str = "cosine"      # "cosine" (to lr_min_frac at the end) or "constant"
    lr_min_frac: float = 0.1
    n_critic: int = 2             # critic steps per generator step
    gp_lambda: float = 10.0       # gradient penalty on interpolates (Gulrajani et al. 2017)
    gp_every: int = 1             # lazy regularisation: penalty every k critic steps, scaled by k
    kl_weight: float = 0.005      # per latent dimension, relative to the reconstruction terms
    feature_weight: float = 1.0   # reconstruction in the critic's feature space (Larsen et al. 2016)
    pixel_weight: float = 1.0     # pixel L1 reconstruction
    adv_weight: float = 0.05      # generator's adversarial term
    ema_decay: float = 0.995      # generator weights averaged for sampling
    # data
    holdout: int = 32             # crops kept out of training, for PSNR/SSIM
    augment: bool = True
    # bookkeeping
    log_every: int = 10
    sample_every: int = 250
    checkpoint_every: int = 500
    seed: int = 0
    amp: str = "auto"             # "auto" (bf16/fp16 on CUDA, off elsewhere), "bf16", "fp16", "off"
    max_rollbacks: int = 4        # NaN/explosion (and collapse) recoveries before giving up
    rollback_lr_factor: float = 0.5
    # mode collapse (perform.training.collapse), watched on the live generator and the fixed latents
    diversity_every: int = 50     # steps between diversity measures (and before every checkpoint)
    collapse_fraction: float = 0.3  # collapse: Vendi score below this fraction of its running peak ...
    collapse_floor: float = 0.01  # ... or mean pairwise RMS pixel distance (16x16, 0..1) below this
    on_collapse: str = "warn"     # "warn" (log and progress line) or "rollback" (last healthy checkpoint, lower lr)

    def __post_init__(self) -> None:
        self.model_config()  # validates resolution and widths
        checks = [
            (self.batch_size >= 2, "batch_size must be >= 2"),
            (self.steps >= 1, "steps must be >= 1"),
            (self.n_critic >= 1, "n_critic must be >= 1"),
            (self.gp_every >= 1, "gp_every must be >= 1"),
            (min(self.lr_g, self.lr_d) > 0, "learning rates must be > 0"),
            (0.0 <= self.ema_decay < 1.0, "ema_decay must be in [0, 1)"),
            (self.lr_decay in ("cosine", "constant"), "lr_decay must be 'cosine' or 'constant'"),
            (self.amp in ("auto", "bf16", "fp16", "off"), "amp must be one of auto, bf16, fp16, off"),
            (min(self.log_every, self.sample_every, self.checkpoint_every) >= 1, "intervals must be >= 1"),
            (self.holdout >= 0, "holdout must be >= 0"),
            (0.0 < self.rollback_lr_factor < 1.0, "rollback_lr_factor must be in (0, 1)"),
            (self.diversity_every >= 1, "diversity_every must be >= 1"),
            (0.0 < self.collapse_fraction < 1.0, "collapse_fraction must be in (0, 1)"),
            (self.collapse_floor >= 0.0, "collapse_floor must be >= 0"),
            (self.on_collapse in ("warn", "rollback"), "on_collapse must be 'warn' or 'rollback'"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)

    def model_config(self) -> VAEGANConfig:
        # imported here, not above: `perform train`'s flags are built from this module whenever the
        # `perform` parser is, and importing perform.nets loads torch (seconds), even for `perform --help`
        from perform.nets.vaegan import VAEGANConfig

        return VAEGANConfig(resolution=self.resolution, latent_dim=self.latent_dim, width=self.width, max_channels=self.max_channels)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, dict[str, Any]] = {
    # recognisable faces on a 2-core CPU in under an hour
    "cpu-small": dict(resolution=64, latent_dim=64, width=16, max_channels=128, batch_size=16, steps=3000,
                      lr_g=3e-4, lr_d=3e-4, n_critic=1, gp_every=4, warmup_steps=50, sample_every=250,
                      checkpoint_every=250),
    # a single modern GPU, a few hours
    "gpu": dict(resolution=128, latent_dim=128, width=32, max_channels=512, batch_size=64, steps=60000,
                n_critic=2, gp_every=1, warmup_steps=500, sample_every=1000, checkpoint_every=2500, holdout=64),
}


def field_types() -> dict[str, type]:
    # read from the declared defaults, not from a TrainConfig(): building one validates the net config,
    # which loads torch (see model_config)
    return {f.name: type(f.default) for f in fields(TrainConfig)}


def _coerce(name: str, value: Any, where: str) -> Any:
    want = field_types()[name]
    if want is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
    elif want is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif want is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif want is str and isinstance(value, str):
        return value
    if isinstance(value, str) and want in (int, float):
        try:
            return want(value)
        except ValueError:
            pass
    raise PerformError(f"{where}: key {name!r} should be a {want.__name__}, got {value!r}")


def resolve(preset: str | None = None, toml_path: str | Path | None = None, overrides: dict[str, Any] | None = None,
            base: TrainConfig | None = None) -> TrainConfig:
    """base (or defaults) <- preset <- TOML file <- overrides (CLI flags), each checked by key name."""
    values: dict[str, Any] = (base or TrainConfig()).to_dict()
    known = set(values)
    if preset:
        if preset not in PRESETS:
            raise PerformError(f"--preset {preset!r} unknown; known presets: {sorted(PRESETS)}")
        values.update(PRESETS[preset])
    if toml_path:
        p = Path(toml_path)
        try:
            data = tomllib.loads(p.read_text())
        except OSError as e:
            raise PerformError(f"{p}: cannot read config: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise PerformError(f"{p}: not valid TOML: {e}") from None
        data = data.get("train", data)  # a [train] table or top-level keys
        for k, v in data.items():
            if k not in known:
                raise PerformError(f"{p}: unknown key {k!r}; expected some of {sorted(known)}")
            values[k] = _coerce(k, v, str(p))
    for k, v in (overrides or {}).items():
        if v is None:
            continue
        if k not in known:
            raise PerformError(f"override: unknown key {k!r}; expected some of {sorted(known)}")
        values[k] = _coerce(k, v, f"--{k.replace('_', '-')}")
    try:
        return TrainConfig(**values)
    except ValueError as e:
        raise PerformError(f"training config: {e}") from None


def from_dict(d: dict[str, Any], where: str) -> TrainConfig:
    """A resolved config as saved with a run (for --resume); unknown keys are refused by name."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise PerformError(f"{where}: unknown training config key(s) {unknown}")
    try:
        return replace(TrainConfig(), **{k: _coerce(k, v, where) for k, v in d.items()})
    except ValueError as e:
        raise PerformError(f"{where}: {e}") from None
