"""One process or many: the torchrun environment, DistributedDataParallel, and summing metrics across ranks."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..devices import torch_device


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: ``rank`` of ``world`` processes, and the device it trains on."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Return whether this process writes files and prints (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Return whether more than one process takes part."""
        return self.world > 1


def choose_device(name: str | None) -> torch.device:
    """Return ``name`` as a torch device ("auto"/None: CUDA when available, else CPU)."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch_device(name, valid="auto, cpu, cuda, cuda:N")


def start(device_name: str | None) -> Ranks:
    """Return this process's Ranks, joining the process group when launched by torchrun (WORLD_SIZE > 1).

    The backend is NCCL when training on CUDA, gloo on CPU; each process takes GPU LOCAL_RANK.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = choose_device(device_name)
    if world <= 1:
        return Ranks(0, 1, device)
    rank = int(os.environ["RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Ranks(rank, world, device)


def stop(ranks: Ranks) -> None:
    """Leave the process group, if this process joined one."""
    if ranks.distributed and dist.is_initialized():
        dist.destroy_process_group()


def sum_across(ranks: Ranks, values: torch.Tensor) -> torch.Tensor:
    """Return ``values`` (float64 tensor) summed over all processes (itself when there is one)."""
    if ranks.distributed:
        values = values.to(ranks.device if ranks.device.type == "cuda" else "cpu")
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values.cpu()


def barrier(ranks: Ranks) -> None:
    """Wait until every process gets here."""
    if ranks.distributed:
        dist.barrier()
