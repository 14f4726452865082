"""Algorithm 1 of the MT-DNN paper: every batch of every task, in one shuffled order per epoch."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from mtdnn.samplers.base import TaskSampler

__all__ = ["ShuffleAllSampler"]


class ShuffleAllSampler(TaskSampler):
    """Visits each task's every mini-batch once per epoch, all tasks' batches shuffled together.

    Tasks therefore appear in proportion to their number of batches.
    """

    def plan(
        self, batch_counts: Mapping[str, int], *, epoch: int, seed: int, total_epochs: int | None = None
    ) -> list[str]:
        """Concatenate ``count`` copies of each task name and shuffle with a seeded generator."""
        names = [task for task in sorted(batch_counts) for _ in range(batch_counts[task])]
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(len(names), generator=generator).tolist()
        return [names[i] for i in order]
