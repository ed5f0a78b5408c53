"""Configuration of the data-free two-generator recipe: frozen dataclasses loaded from a TOML file."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from perform.errors import PerformError
from perform.nets.vaegan import VAEGANConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Distance = Literal["l1", "l2", "cosine", "huber"]
ColourMeasure = Literal["colourfulness", "hue_entropy", "soft_histogram"]
DeceptionLoss = Literal["bce", "l1", "l2", "hinge"]
Sequence = Literal["simultaneous", "alternating", "turns"]
CriticMode = Literal["standard", "diametric"]
OnCollapse = Literal["warn", "rollback"]
OptimiserName = Literal["adam", "rmsprop", "sgd"]


class RecipeError(PerformError):
    """A recipe file that cannot be used; names the file and the key."""


@dataclass(frozen=True, slots=True)
class NetConfig:
    """Widths of the generators (both the same) and of the critic; the generator part is a VAEGANConfig."""

    resolution: int = 64
    latent_dim: int = 32
    width: int = 16
    max_channels: int = 64
    critic_width: int = 16
    critic_max_channels: int = 64

    def generator_config(self) -> VAEGANConfig:
        return VAEGANConfig(resolution=self.resolution, latent_dim=self.latent_dim, width=self.width, max_channels=self.max_channels)

    def critic_config(self) -> VAEGANConfig:
        return VAEGANConfig(resolution=self.resolution, latent_dim=self.latent_dim, width=self.critic_width, max_channels=self.critic_max_channels)


@dataclass(frozen=True, slots=True)
class LossConfig:
    """Weights and distance functions of the generator objectives and of the critic."""

    deception: float = 1.0                  # be classified as the OTHER generator
    deception_loss: DeceptionLoss = "bce"
    colour: float = 1.0                     # more colour variety than the other, relative to the batch
    colour_measure: ColourMeasure = "colourfulness"
    colour_measure_b: ColourMeasure | Literal[""] = ""  # B may count colour differently ("" = same as A)
    embedding: float = 0.5                  # critic-feature distances of the batch follow latent distances
    embedding_distance: Distance = "cosine"
    pixel_diversity: float = 0.2            # pixel-space batch diversity
    pixel_distance: Distance = "l1"
    smoothness: float = 0.0                 # total-variation penalty: colour fields rather than pixel noise
    critic_mode: CriticMode = "standard"
    diametric_weight: float = 0.5           # weight of the opposed (swapped-label) critic loss
    diametric_loss: DeceptionLoss = "l2"    # the opposed loss measures with another function, on purpose


@dataclass(frozen=True, slots=True)
class OptimConfig:
    """One optimiser. betas are used by adam (beta1, beta2) and sgd (momentum = beta1)."""

    name: OptimiserName = "adam"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """The order in which the three networks learn."""

    sequence: Sequence = "alternating"
    turn_length: int = 25     # 'turns': steps each generator trains while the other waits
    critic_steps: int = 1     # critic updates per step
    max_grad_norm: float = 10.0  # clip; 0 = off (explosions are then more likely and more visible)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """Thresholds of the three failure modes, what --keep-alive does about them, and --on-collapse."""

    every: int = 50                   # steps between health checks
    collapse_diversity: float = 0.04  # mean pairwise L1 (in [-1, 1] pixel units) of a fixed latent batch
    collapse_fraction: float = 0.3    # collapse too: the batch's Vendi score below this fraction of its running peak
    on_collapse: OnCollapse = "warn"  # "rollback": the collapsed generator back to its last healthy snapshot ...
    rollback_lr_factor: float = 0.5   # ... and its learning rate multiplied by this (each time)
    stasis_change: float = 0.004      # mean |change| of the fixed batch since the previous check
    explode_grad_norm: float = 1000.0
    lr_kick: float = 4.0              # stasis: lrs multiplied by this ...
    kick_steps: int = 100             # ... for this many steps
    weight_noise: float = 0.05        # collapse: relative std of noise added to the collapsed generator
    cool_factor: float = 0.25         # explosion: lrs multiplied by this for kick_steps, and the critic reset


@dataclass(frozen=True, slots=True)
class RecipeConfig:
    """A whole recipe: what the TOML file holds, after validation."""

    name: str = "unstable"
    description: str = ""
    seed: int = 0
    steps: int = 2000
    batch_size: int = 16
    snapshot_every: int = 250
    keep_snapshots: int = 8            # the final pair model keeps at most this many, evenly spread
    fixed_batch: int = 16              # latents held fixed for metrics, strips and stasis
    max_minutes: float = 0.0           # stop early (with a final snapshot) after this long; 0 = no limit
    log_every: int = 50                # steps between progress lines
    net: NetConfig = field(default_factory=NetConfig)
    losses: LossConfig = field(default_factory=LossConfig)
    generator_optim: OptimConfig = field(default_factory=OptimConfig)
    critic_optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "RecipeConfig":
        return dataclasses.replace(self, **changes)


def _build(cls: type, data: Any, where: str, prefix: str) -> Any:
    """Build dataclass `cls` from a TOML table, checking keys, types and literal choices by name."""
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: {prefix.rstrip('.') or 'top level'} should be a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RecipeError(f"{where}: unknown key {prefix + unknown[0]!r}; expected one of {sorted(known)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        key = prefix + name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, where, key + ".")
        else:
            kwargs[name] = _check_value(hint, value, where, key)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise RecipeError(f"{where}: {prefix.rstrip('.') or 'recipe'}: {e}") from None


def _literal_choices(hint: Any) -> list[Any] | None:
    if typing.get_origin(hint) is Literal:
        return list(typing.get_args(hint))
    if typing.get_origin(hint) in (typing.Union, getattr(types, "UnionType", None)):
        out: list[Any] = []
        for arg in typing.get_args(hint):
            sub = _literal_choices(arg)
            if sub is None:
                return None
            out += sub
        return out
    return None


def _check_value(hint: Any, value: Any, where: str, key: str) -> Any:
    choices = _literal_choices(hint)
    if choices is not None:
        if value not in choices:
            raise RecipeError(f"{where}: key {key!r} is {value!r}; expected one of {choices}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{where}: key {key!r} should be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{where}: key {key!r} should be an integer, got {value!r}")
        return value
    if hint is str and not isinstance(value, str):
        raise RecipeError(f"{where}: key {key!r} should be a string, got {value!r}")
    return value


def _validate(cfg: RecipeConfig, where: str) -> RecipeConfig:
    checks = [
        (cfg.steps >= 1, "steps", "at least 1"),
        (cfg.batch_size >= 2, "batch_size", "at least 2 (batch relations need pairs)"),
        (cfg.fixed_batch >= 2, "fixed_batch", "at least 2"),
        (cfg.snapshot_every >= 1, "snapshot_every", "at least 1"),
        (cfg.keep_snapshots >= 2, "keep_snapshots", "at least 2 (a trajectory has two ends)"),
        (cfg.schedule.turn_length >= 1, "schedule.turn_length", "at least 1"),
        (cfg.schedule.critic_steps >= 0, "schedule.critic_steps", "0 or more"),
        (cfg.health.every >= 1, "health.every", "at least 1"),
        (0.0 < cfg.health.collapse_fraction < 1.0, "health.collapse_fraction", "between 0 and 1"),
        (0.0 < cfg.health.rollback_lr_factor < 1.0, "health.rollback_lr_factor", "between 0 and 1"),
        (cfg.max_minutes >= 0, "max_minutes", "0 (no limit) or more"),
        (cfg.log_every >= 1, "log_every", "at least 1"),
        (cfg.generator_optim.lr > 0 and cfg.critic_optim.lr > 0, "*_optim.lr", "positive"),
    ]
    for ok, key, expected in checks:
        if not ok:
            raise RecipeError(f"{where}: key {key!r} should be {expected}")
    try:
        cfg.net.generator_config(), cfg.net.critic_config()
    except ValueError as e:
        raise RecipeError(f"{where}: [net]: {e}") from None
    return cfg


def recipe_from_dict(data: dict[str, Any], where: str = "<recipe>") -> RecipeConfig:
    """Validate a parsed TOML table into a RecipeConfig; `where` names the source in errors."""
    return _validate(_build(RecipeConfig, data, where, ""), where)


def load_recipe(path: str | Path) -> RecipeConfig:
    """Read and validate a recipe TOML file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise RecipeError(f"{p}: recipe file not found or unreadable ({e.strerror or e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{p}: not valid TOML: {e}") from None
    return recipe_from_dict(data, str(p))


def _parse_value(text: str) -> Any:
    """A --set value as TOML (numbers, booleans, quoted strings); bare words are taken as strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(cfg: RecipeConfig, sets: list[str], where: str) -> RecipeConfig:
    """Apply KEY=VALUE overrides (dotted keys for sections, TOML values) and validate the result again."""
    data = cfg.to_dict()
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise PerformError(f"--set {item!r}: expected KEY=VALUE, e.g. losses.colour=0.5")
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise PerformError(f"--set {item!r}: {part!r} is not a section of the recipe")
            node = node[part]
        node[leaf] = _parse_value(value.strip())
    return recipe_from_dict(data, f"{where} (with --set)")
