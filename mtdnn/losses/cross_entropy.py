"""Cross-entropy over class logits."""

from __future__ import annotations

import torch
from torch.nn import functional

from mtdnn.errors import ConfigurationError
from mtdnn.functional import IGNORED
from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Loss):
    """Mean cross-entropy between logits and gold label ids.

    Token-level logits ``[B, W, C]`` (the ``tagging`` head) are scored against labels ``[B, W]``;
    the label -1 marks padding and is left out of the mean.

    Args:
        label_smoothing: Probability mass spread uniformly over all classes (0 disables).
        class_weights: One weight per class, for imbalanced tasks.
    """

    def __init__(self, *, label_smoothing: float = 0.0, class_weights: list[float] | None = None) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ConfigurationError(
                f"label_smoothing must be in [0, 1), got {label_smoothing}", path="label_smoothing"
            )
        self.label_smoothing = label_smoothing
        self.class_weights = class_weights

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean cross-entropy over the batch (computed in float32)."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        logits = output.logits.float()
        weight = None
        if self.class_weights is not None:
            if len(self.class_weights) != logits.size(-1):
                raise ConfigurationError(
                    f"class_weights has {len(self.class_weights)} values for {logits.size(-1)} classes",
                    path=f"tasks.{batch.task}.loss.class_weights",
                )
            weight = torch.tensor(self.class_weights, device=logits.device)
        labels = batch.labels.long()
        if logits.dim() == 3:
            logits, labels = logits.reshape(-1, logits.size(-1)), labels.reshape(-1)
        return functional.cross_entropy(
            logits, labels, weight=weight, label_smoothing=self.label_smoothing, ignore_index=IGNORED
        )
