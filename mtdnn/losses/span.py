"""Cross-entropy of the start and end positions of an answer span."""

from __future__ import annotations

import torch

from mtdnn.functional import IGNORED
from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["SpanCrossEntropyLoss"]


class SpanCrossEntropyLoss(Loss):
    """The mean of the start and the end cross-entropy over each row's positions (the ``span`` head's loss).

    The logits are ``[B, T, 2]`` (start, end) by input position, with each row's real tokens first
    (as the ``span`` head lays them out); the labels ``[B, 2]`` are the gold start and end
    positions. Positions past a row's length (the count of its ``attention_mask``) are padding
    and take no part in the softmax. A label of -1 leaves that row out of the start (or end)
    mean; a batch with no label left has a loss of 0.
    """

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Half the sum of the start and end cross-entropies, each a mean over labelled rows (float32)."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        logits = output.logits.float()
        labels = batch.labels.long()
        if logits.dim() != 3 or logits.size(-1) != 2 or labels.shape != (logits.size(0), 2):
            raise ValueError(
                f"task {batch.task!r}: the span loss needs logits [B, T, 2] and labels [B, 2], got "
                f"{tuple(logits.shape)} and {tuple(labels.shape)}"
            )
        lengths = batch.inputs["attention_mask"].sum(dim=1, keepdim=True)
        padding = torch.arange(logits.size(1), device=logits.device).unsqueeze(0) >= lengths
        log_probs = torch.log_softmax(logits.masked_fill(padding.unsqueeze(-1), -torch.inf), dim=1)
        kept = labels != IGNORED
        picked = torch.gather(log_probs, 1, labels.clamp(min=0).unsqueeze(1)).squeeze(1)  # [B, 2]
        losses = -picked.masked_fill(~kept, 0.0).sum(dim=0) / kept.sum(dim=0).clamp(min=1)
        return losses.mean()
