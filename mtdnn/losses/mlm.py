"""The masked-LM loss: cross-entropy of the masked tokens' original ids."""

from __future__ import annotations

import torch
from torch.nn import functional

from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["MaskedLmLoss"]


class MaskedLmLoss(Loss):
    """Mean cross-entropy over the masked tokens of a batch (the targets come from the head's output)."""

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean over the batch's masked tokens, in float32.

        Raises:
            ValueError: The output carries no masked-token targets (the head is not ``mlm``).
        """
        if output.targets is None:
            raise ValueError(f"task {batch.task!r}: the mlm loss needs the mlm head's targets")
        return functional.cross_entropy(output.logits.float(), output.targets)
