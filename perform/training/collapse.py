"""Mode collapse: the diversity of a generator's images for a fixed latent batch, and a detector that flags a fall.

Both recipes measure their generator(s) on the same latents at intervals (perform.quality.diversity:
the Vendi score, the effective number of distinct images, and the mean pairwise pixel distance) and
hand the numbers to a `CollapseDetector`. It reports a collapse when
- the images are nearly identical (mean pairwise distance below `floor`), or
- the Vendi score falls below `fraction` of the highest it has reached in this run (its running peak).
A VAE-GAN starts from nearly identical images (a fresh generator maps every latent to about the same
grey): with `armed=False` the detector waits until the batch has once been diverse (distance at least
2 x floor) before it judges. What to do about a collapse is the recipe's choice (warn, or roll back to
the last healthy snapshot with a lower learning rate: `--on-collapse rollback`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from perform.quality.diversity import BatchDiversity, batch_diversity

ON_COLLAPSE = ("warn", "rollback")


@dataclass(frozen=True, slots=True)
class CollapseVerdict:
    """A collapse seen at `step`: the measures, the running peak, and why it counts as one."""

    step: int
    vendi: float
    distance: float
    peak: float
    reason: str

    def describe(self) -> str:
        return f"mode collapse at step {self.step}: {self.reason}"


class CollapseDetector:
    """Keeps the running peak of the Vendi score; `update()` returns a verdict when the batch collapsed."""

    def __init__(self, fraction: float = 0.3, floor: float = 0.01, armed: bool = True) -> None:
        if not 0.0 < fraction < 1.0:
            raise ValueError("collapse fraction must be in (0, 1)")
        self.fraction = fraction
        self.floor = floor
        self.armed = armed
        self.peak = 0.0
        self.peak_step = -1

    def update(self, step: int, vendi: float, distance: float) -> CollapseVerdict | None:
        """Judge one measure of the fixed batch (its Vendi score and mean pairwise distance)."""
        if not (math.isfinite(vendi) and math.isfinite(distance)):
            return CollapseVerdict(step, vendi, distance, self.peak, "the images are not finite (NaN or infinity)")
        if not self.armed:
            if distance < 2.0 * self.floor:
                return None  # not yet diverse: nothing to collapse from
            self.armed = True
        if distance < self.floor:
            return CollapseVerdict(step, vendi, distance, self.peak,
                                   f"the images are nearly identical (mean pairwise distance {distance:.3g} < {self.floor:g})")
        if self.peak > 0 and vendi < self.fraction * self.peak:
            return CollapseVerdict(step, vendi, distance, self.peak,
                                   f"diversity fell to {vendi:.3g} distinct images (Vendi), below {self.fraction:g} of "
                                   f"its peak {self.peak:.3g} at step {self.peak_step}")
        if vendi > self.peak:
            self.peak, self.peak_step = vendi, step
        return None

    def state(self) -> dict[str, Any]:
        return {"peak": self.peak, "peak_step": self.peak_step, "armed": self.armed}

    def load_state(self, state: dict[str, Any]) -> None:
        self.peak = float(state.get("peak", 0.0))
        self.peak_step = int(state.get("peak_step", -1))
        self.armed = bool(state.get("armed", self.armed))


@torch.no_grad()
def generator_diversity(generator: torch.nn.Module, z: torch.Tensor) -> tuple[BatchDiversity, torch.Tensor]:
    """The diversity of a generator's images for latents z (B, Z), in eval mode (what a model shows);
    the generator's training mode is restored. Returns the measure and the images (B, 3, H, W)."""
    was_training = generator.training
    generator.eval()
    try:
        x = generator(z).float()
    finally:
        generator.train(was_training)
    return batch_diversity(x), x
