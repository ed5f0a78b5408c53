"""Pick the torch device: cuda, then mps, then cpu; overridable."""

from __future__ import annotations

import torch


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def check_device(requested: str) -> torch.device:
    """The device `requested` names ('cpu', 'cuda', 'cuda:1', 'mps'); ValueError naming it if it is not
    a device name or not on this machine."""
    try:
        dev = torch.device(requested)
    except (RuntimeError, ValueError):
        raise ValueError(f"{requested!r}: not a device; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{requested!r}: CUDA is not available on this machine; use --device cpu (or auto)")
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise ValueError(f"{requested!r}: this machine has CUDA devices 0..{n - 1}")
    elif dev.type == "mps":
        if not _mps_available():
            raise ValueError(f"{requested!r}: MPS is not available on this machine; use --device cpu (or auto)")
    elif dev.type != "cpu":
        raise ValueError(f"{requested!r}: unsupported device type; use auto, cpu, cuda, cuda:N or mps")
    return dev


def pick_device(requested: str | None = None) -> torch.device:
    """`requested` may be None/'auto', 'cpu', 'cuda', 'cuda:1', 'mps'."""
    if requested and requested != "auto":
        return check_device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")
