"""Where and how a net runs for inference: device, number precision, memory format, host transfers.

fp32 is the default and the reference; bf16 and fp16 are explicit choices (never picked silently), with
their image error against fp32 measured in docs/performance.md. Nets run channels_last on CPU and CUDA:
the crop arrives from numpy already in that layout, and oneDNN/cuDNN take faster paths with identical
uint8 output (tests/nets/test_precision.py).
"""

from __future__ import annotations

import numpy as np
import torch

from perform.errors import PerformError

PRECISIONS = ("fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class PrecisionError(PerformError, ValueError):
    """A --precision the device cannot run; the message names the flag and what to use instead."""


def cpu_supports_bf16() -> bool:
    """True where oneDNN has bf16 kernels for this CPU (AVX-512 or newer); elsewhere bf16 is emulated, slow."""
    probe = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    if probe is not None:
        return bool(probe())
    return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AMX")


def precision_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype for `--precision` on `device`; a PrecisionError naming the flag where it cannot run (refused
    before the show rather than falling back: a performer who asked for bf16 rehearsed with bf16)."""
    if precision not in _DTYPES:
        raise PrecisionError(f"--precision {precision}: unknown; expected one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return torch.float32
    if device.type == "cpu":
        if precision == "fp16":
            raise PrecisionError("--precision fp16: for cuda or mps only (CPUs have no fast fp16 kernels); "
                                 "on a CPU use bf16 where it supports it, or fp32")
        if not cpu_supports_bf16():
            raise PrecisionError(f"--precision bf16: this CPU ({torch.backends.cpu.get_cpu_capability()}) has no bf16 "
                                 "kernels (needs AVX-512 or newer); use fp32")
    elif device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise PrecisionError(f"--precision bf16: {torch.cuda.get_device_name(device)} does not support bf16; use fp16")
    elif device.type == "mps" and precision == "bf16":
        newer = getattr(torch.backends.mps, "is_macos_or_newer", None)
        if newer is None or not newer(14, 0):
            raise PrecisionError("--precision bf16: MPS needs macOS 14 or newer for bf16; use fp16")
    return _DTYPES[precision]


def use_channels_last(device: torch.device) -> bool:
    # MPS: channels_last convolutions have had wrong-result bugs in several torch releases; stay contiguous
    return device.type in ("cpu", "cuda")


def place(module: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The module in eval mode on `device`, in `dtype`, channels_last where that pays."""
    module = module.eval().to(device=device, dtype=dtype)
    if use_channels_last(device):
        module = module.to(memory_format=torch.channels_last)
    return module


def compile_nets(model) -> None:
    """torch.compile a loaded model's nets in place; on CUDA with CUDA graphs (mode 'reduce-overhead': one
    launch per image instead of one per layer). Off unless asked for: the first images take seconds to
    minutes to compile, and it is not measured on a GPU yet (docs/performance.md)."""
    mode = "reduce-overhead" if model.device.type == "cuda" else "default"
    nets = [model.net.encoder, model.net.generator] if hasattr(model, "net") else [model.gen_a, model.gen_b]
    for net in nets:
        net.compile(mode=mode)  # in place: parameter names (and a pair's snapshot blending) unchanged


def to_uint8_hwc(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1], any float dtype -> (B, H, W, 3) uint8, on x's device (only bytes cross
    to the host). The arithmetic is fp32 whatever the net's precision, as tensor_to_images does."""
    x = ((x.detach().float().clamp(-1, 1) + 1.0) * 127.5).round_().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous()  # free when x is channels_last


class HostIO:
    """Moves crops to the device and images back; on CUDA through pinned host buffers with non-blocking
    copies (one synchronisation per image, at the download). Owned by one model, used under its lock."""

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        self.device, self.dtype = device, dtype
        self._pinned = device.type == "cuda"
        self._bufs: dict[tuple[str, tuple[int, ...]], torch.Tensor] = {}

    def _buf(self, role: str, shape: tuple[int, ...]) -> torch.Tensor:
        key = (role, shape)
        if key not in self._bufs:  # once per shape: a show uses one or two
            self._bufs[key] = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        return self._bufs[key]

    def latent(self, latent: np.ndarray) -> torch.Tensor:
        """(Z,) -> (1, Z) in the net's dtype on the device."""
        z = torch.as_tensor(np.asarray(latent, dtype=np.float32)).reshape(1, -1)  # (1, Z)
        return z.to(self.device, self.dtype)

    def crop(self, crop: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 -> (1, 3, H, W) in [-1, 1], net dtype, channels_last (the numpy layout as it is)."""
        if self._pinned:
            host = self._buf("in", tuple(crop.shape))
            host.numpy()[...] = crop
            t = host.to(self.device, non_blocking=True)
        else:
            t = torch.as_tensor(np.ascontiguousarray(crop), device=self.device)
        x = t.unsqueeze(0).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # (1, 3, H, W), channels_last strides
        return x.to(self.dtype)

    def images(self, x: torch.Tensor) -> np.ndarray:
        """(B, 3, H, W) net output -> (B, H, W, 3) uint8 numpy, a fresh array the caller owns."""
        u8 = to_uint8_hwc(x)
        if not self._pinned:
            return u8.cpu().numpy()
        host = self._buf("out", tuple(u8.shape))
        host.copy_(u8, non_blocking=True)
        torch.cuda.current_stream(self.device).synchronize()  # the one wait: the bytes must be there to hand on
        return host.numpy().copy()  # the buffer is reused by the next image
