"""Mean squared error for real-valued targets."""

from __future__ import annotations

import torch
from torch.nn import functional

from mtdnn.config.checks import check_range
from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["MeanSquaredErrorLoss"]


class MeanSquaredErrorLoss(Loss):
    """Mean squared error between the predicted values ``[B, 1]`` and the float targets, in float32.

    Args:
        normalize: ``[low, high]``: measure the error in normalised units, i.e. after mapping
            both prediction and target by ``(v - low) / (high - low)`` (BAM normalises STS-B's
            ``[0, 5]`` to ``[0, 1]``). Use the regression head's ``normalize`` with the same range.
    """

    def __init__(self, *, normalize: tuple[float, float] | None = None) -> None:
        check_range(normalize, path="normalize")
        self.normalize = normalize

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean squared error over the batch."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        predictions = output.logits.float().reshape(-1)
        targets = batch.labels.float().reshape(-1).to(predictions.device)
        if self.normalize is not None:
            low, high = self.normalize
            predictions, targets = (predictions - low) / (high - low), (targets - low) / (high - low)
        return functional.mse_loss(predictions, targets)
