"""ControlEvent: one control message (OSC, key, clock), stamped on arrival."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """t_s: when it takes effect, on the engine's clock (perf_counter live; frame time offline).
    address: an OSC-style address, e.g. '/perform/latent/3' or '/perform/key/right'.
    args: plain scalars (float, int, bool, str).
    origin: 'osc', 'key', 'clock', 'replay'.
    """

    t_s: float
    address: str
    args: tuple
    origin: str = "osc"
