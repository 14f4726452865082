"""The loss interface."""

from __future__ import annotations

import torch

from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["Loss"]


class Loss:
    """Turns a head's output and the batch's gold labels into a scalar to minimise."""

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Return the mean loss over the batch."""
        raise NotImplementedError
