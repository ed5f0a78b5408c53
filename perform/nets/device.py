"""Pick the torch device: cuda, then mps, then cpu; overridable."""

from __future__ import annotations

import torch


def pick_device(requested: str | None = None) -> torch.device:
    """`requested` may be None/'auto', 'cpu', 'cuda', 'cuda:1', 'mps'."""
    if requested and requested != "auto":
        try:
            dev = torch.device(requested)
        except RuntimeError:  # torch's message lists every device type it knows; name the flag instead
            raise ValueError(f"--device {requested}: not a device; expected auto, cpu, cuda, cuda:N or mps") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: CUDA is not available on this machine")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"--device {requested}: MPS is not available on this machine")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
