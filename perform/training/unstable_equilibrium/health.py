"""Health of the pair's dynamics: collapse, explosion and stasis, measured on a fixed latent batch."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from perform.nets.vaegan import Generator
from perform.quality.diversity import batch_diversity
from perform.training.collapse import CollapseDetector
from perform.training.colour import colourfulness_torch
from perform.training.unstable_equilibrium.config import HealthConfig
from perform.training.unstable_equilibrium.losses import batch_diversity as l1_diversity


@dataclass(frozen=True, slots=True)
class GeneratorHealth:
    """One generator's measures on the fixed latent batch."""

    colourfulness: float  # Hasler-Süsstrunk, 0..~100+
    diversity: float      # mean pairwise L1 between the batch's images, in [-1, 1] pixel units
    change: float         # mean |difference| of the batch since the previous check (nan on the first)
    vendi: float = math.nan  # Vendi score: the effective number of distinct images in the batch (1..B)

    def to_dict(self) -> dict[str, float]:
        return {"colourfulness": self.colourfulness, "diversity": self.diversity, "change": self.change, "vendi": self.vendi}


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A failure mode seen at a step: kind is 'collapse', 'explosion' or 'stasis'; who is 'a', 'b' or 'critic'."""

    step: int
    kind: str
    who: str
    value: float
    detail: str = ""  # in words, for the log (a collapse says which rule saw it)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"step": self.step, "kind": self.kind, "who": self.who, "value": self.value}
        if self.detail:
            out["detail"] = self.detail
        return out


@torch.no_grad()
def measure(gen: Generator, z: torch.Tensor, previous: torch.Tensor | None) -> tuple[GeneratorHealth, torch.Tensor]:
    """Measure a generator in eval mode (what playback shows) on latents z (B, Z); returns the images too."""
    was_training = gen.training
    gen.eval()
    x = gen(z)  # (B, 3, R, R)
    gen.train(was_training)
    change = float((x - previous).abs().mean()) if previous is not None else math.nan
    return GeneratorHealth(float(colourfulness_torch(x).mean()), float(l1_diversity(x, "l1")), change,
                           batch_diversity(x).vendi), x


class HealthMonitor:
    """Keeps the previous fixed-batch images and a collapse detector per generator; turns measures into events."""

    def __init__(self, cfg: HealthConfig, z_fixed: torch.Tensor) -> None:
        self.cfg = cfg
        self.z = z_fixed
        self._previous: dict[str, torch.Tensor] = {}
        self.detectors: dict[str, CollapseDetector] = {}

    def check(self, step: int, gens: dict[str, Generator]) -> tuple[dict[str, GeneratorHealth], list[HealthEvent]]:
        """Measure each named generator; collapse and stasis events for the ones that show them."""
        out: dict[str, GeneratorHealth] = {}
        events: list[HealthEvent] = []
        for name, gen in gens.items():
            h, x = measure(gen, self.z, self._previous.get(name))
            self._previous[name] = x
            out[name] = h
            detector = self.detectors.setdefault(name, CollapseDetector(self.cfg.collapse_fraction, self.cfg.collapse_diversity))
            verdict = detector.update(step, h.vendi, h.diversity)
            if verdict is not None:
                events.append(HealthEvent(step, "collapse", name, h.diversity, verdict.reason))
            elif math.isfinite(h.change) and h.change < self.cfg.stasis_change:
                events.append(HealthEvent(step, "stasis", name, h.change))
        return out, events

    def explosion(self, step: int, who: str, norm: float) -> HealthEvent | None:
        """An event if a gradient norm is non-finite or past the threshold."""
        if not math.isfinite(norm) or norm > self.cfg.explode_grad_norm:
            return HealthEvent(step, "explosion", who, norm)
        return None


@torch.no_grad()
def inject_noise(module: torch.nn.Module, relative_std: float, generator: torch.Generator | None = None) -> None:
    """Add Gaussian noise to each weight tensor, scaled by that tensor's own std (perturbs, keeps scale)."""
    for p in module.parameters():
        scale = p.std() if p.numel() > 1 else p.abs()
        noise = torch.randn(p.shape, generator=generator, device=p.device, dtype=p.dtype)
        p.add_(noise * (scale * relative_std + 1e-4))


def reset_parameters(module: torch.nn.Module) -> None:
    """Re-initialise every submodule that knows how (fresh critic after an explosion or a long stasis)."""
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()
