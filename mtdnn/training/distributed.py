"""Data-parallel training across processes (``torchrun``): setup and the rank's share of the data."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistributedContext", "setup_distributed"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in a data-parallel job (a single process is rank 0 of 1).

    Args:
        rank: Global rank.
        world_size: Number of processes.
        local_rank: Rank on this machine (selects the GPU).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> DistributedContext:
        """The context that ``torchrun`` sets in the environment, without joining its group."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        return cls(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def is_main(self) -> bool:
        """Whether this process writes files (metrics, models, checkpoints)."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1

    def device(self, selected: torch.device) -> torch.device:
        """The device of this rank: its own GPU when training on CUDA."""
        if self.enabled and selected.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return selected

    def barrier(self) -> None:
        """Wait for every rank (no-op for one process)."""
        if self.enabled:
            dist.barrier()

    def share(self, batches: list[list[int]]) -> list[list[int]]:
        """This rank's batches: every ``world_size``-th batch, the last round wrapped around.

        Each rank gets ``ceil(len(batches) / world_size)`` batches, so all ranks take the same
        number of steps and their gradients can be averaged at every step.
        """
        if not self.enabled or not batches:
            return batches
        rounds = -(-len(batches) // self.world_size)
        return [batches[(step * self.world_size + self.rank) % len(batches)] for step in range(rounds)]

    def gather_rows(self, order: list[int], rows: list[torch.Tensor]) -> tuple[list[int], list[torch.Tensor]]:
        """Every rank's ``order`` and ``rows`` (CPU tensors), concatenated in rank order, on every rank."""
        if not self.enabled:
            return order, rows
        gathered: list[tuple[list[int], list[torch.Tensor]] | None] = [None] * self.world_size
        dist.all_gather_object(gathered, (order, rows))
        parts = [part for part in gathered if part is not None]
        return [i for part in parts for i in part[0]], [row for part in parts for row in part[1]]


def setup_distributed(device: torch.device) -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    The backend is NCCL on CUDA and gloo otherwise. Without ``WORLD_SIZE`` > 1 this returns a
    single-process context and starts nothing.
    """
    context = DistributedContext.from_env()
    if not context.enabled:
        return context
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(context.local_rank)
        dist.init_process_group(backend=backend)
        logger.info("rank %d of %d joined the %s process group", context.rank, context.world_size, backend)
    return context
