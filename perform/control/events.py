"""ControlEvent: one control message (OSC, key, clock), stamped on arrival."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """t_s: when it takes effect, on the engine's clock (perf_counter live; frame time offline).
    address: an OSC-style address, e.g. '/perform/latent/3' or '/perform/key/right'.
    args: plain scalars (float, int, bool, str).
    origin: 'osc', 'key', 'clock', 'replay'.
    reply_to: (host, port) of the OSC sender, for /perform/reply/... answers; None for other origins.
        Not part of equality: a replayed event equals the live one it records.
    """

    t_s: float
    address: str
    args: tuple
    origin: str = "osc"
    reply_to: tuple[str, int] | None = field(default=None, compare=False)
