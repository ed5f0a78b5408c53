"""Data-parallel training under torchrun: process group set-up and gradient averaging (NCCL on GPUs, gloo on CPU).

Gradients are all-reduced by hand after each phase's backward, as stylegan3's training loop does, rather
than through DistributedDataParallel: the gradient penalty needs a double backward through the critic,
which DDP's reducer hooks do not support, and the three networks step on different schedules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init_from_env(device_type: str) -> DistInfo:
    """Join the process group when launched by torchrun (RANK/WORLD_SIZE set); a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return DistInfo(rank, world, local)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_module(module: torch.nn.Module, info: DistInfo) -> None:
    """Every rank starts from rank 0's parameters and buffers."""
    if info.enabled:
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(params: Iterable[torch.nn.Parameter], info: DistInfo) -> None:
    """All-reduce the mean of every gradient in one flat buffer (one collective per phase)."""
    if not info.enabled:
        return
    params = [p for p in params if p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.flatten() for p in params])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= info.world
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
        offset += n


def average_buffers(module: torch.nn.Module, info: DistInfo) -> None:
    """Average floating-point buffers (BatchNorm running statistics) so every rank holds identical weights."""
    if not info.enabled:
        return
    bufs = [b for b in module.buffers() if b.is_floating_point()]
    if bufs:
        flat = torch.cat([b.flatten() for b in bufs])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= info.world
        offset = 0
        for b in bufs:
            b.copy_(flat[offset:offset + b.numel()].view_as(b))
            offset += b.numel()


def all_reduce_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= info.world
    return values


def gather_uint8(t: torch.Tensor, info: DistInfo, device: torch.device) -> list[torch.Tensor]:
    """Each rank's copy of a same-sized uint8 tensor (RNG states), on every rank, returned on the CPU."""
    if not info.enabled:
        return [t]
    t = t.to(device)  # NCCL moves only device tensors
    out = [torch.empty_like(t) for _ in range(info.world)]
    dist.all_gather(out, t)
    return [o.cpu() for o in out]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def check_consistency(modules: dict[str, torch.nn.Module], info: DistInfo, device: torch.device) -> None:
    """Raise if any rank's weights differ from rank 0's (stylegan3's check_ddp_consistency, by checksums)."""
    if not info.enabled:
        return
    for name, module in modules.items():
        ts = [t for t in module.state_dict().values() if t.is_floating_point()]
        own = torch.stack([torch.stack([t.double().sum(), t.double().square().sum()]) for t in ts]).flatten().to(device)
        every = [torch.empty_like(own) for _ in range(info.world)]
        dist.all_gather(every, own)
        for r, other in enumerate(every[1:], 1):
            if not torch.equal(other, every[0]):
                raise RuntimeError(f"data-parallel ranks disagree: {name} weights of rank {r} differ from rank 0's")
