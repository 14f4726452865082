"""Binary cross-entropy over independent labels (multi-label classification)."""

from __future__ import annotations

import torch
from torch.nn import functional

from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["BinaryCrossEntropyLoss"]


class BinaryCrossEntropyLoss(Loss):
    """Mean binary cross-entropy between per-label logits ``[B, C]`` and multi-hot targets, in float32.

    Args:
        pos_weight: Weight of the positive term of every label (above 1 favours recall).
    """

    def __init__(self, *, pos_weight: float = 1.0) -> None:
        self.pos_weight = pos_weight

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean over examples and labels."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        logits = output.logits.float()
        targets = batch.labels.float().to(logits.device)
        if targets.shape != logits.shape:
            raise ValueError(
                f"task {batch.task!r}: bce needs multi-hot targets of shape {list(logits.shape)}, "
                f"got {list(targets.shape)}; use it with list labels and the multilabel head"
            )
        weight = None
        if self.pos_weight != 1.0:
            weight = torch.full((logits.size(-1),), self.pos_weight, device=logits.device)
        return functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=weight)
